import { CaError, type CaErrorCode } from '../ca/ca-error.js';
import { StoreError, type StoreErrorCode } from '../store/store-error.js';

/** Media type of every error body (RFC 9457). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** One invalid input, naming where it is and why. */
export interface ProblemIssue {
  /** Which part of the request: body, querystring, params, headers. */
  readonly in: 'body' | 'querystring' | 'params' | 'headers';
  /** JSON pointer into that part (`/spec/versions/0/weight`), or the header / parameter name. */
  readonly field: string;
  readonly reason: string;
}

/** An RFC 9457 problem document with meshward's extension members. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance?: string;
  /** Stable machine-readable code (see ApiErrorCode). */
  readonly code: string;
  readonly errors?: readonly ProblemIssue[];
  /** On 412: the version the resource is at now. */
  readonly currentVersion?: number;
}

/**
 * Every error the API reports, with its HTTP status. The single table below is the only place a code
 * becomes a status; handlers throw {@link ApiError} (or a StoreError, mapped here), never set codes.
 */
export const API_ERRORS = {
  VALIDATION_FAILED: { status: 400, title: 'The request is invalid' },
  MALFORMED_JSON: { status: 400, title: 'The body is not valid JSON' },
  UNAUTHENTICATED: { status: 401, title: 'A valid bearer token is required' },
  FORBIDDEN: { status: 403, title: 'The token does not allow this operation' },
  NOT_FOUND: { status: 404, title: 'No such resource' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  ALREADY_EXISTS: { status: 409, title: 'The resource already exists' },
  REFERENCED: { status: 409, title: 'The change conflicts with other resources' },
  PRECONDITION_FAILED: { status: 412, title: 'The resource changed since you read it' },
  BODY_TOO_LARGE: { status: 413, title: 'The body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  PRECONDITION_REQUIRED: { status: 428, title: 'If-Match is required' },
  UNAVAILABLE: { status: 503, title: 'The service is not available' },
  INTERNAL: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;
export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ApiErrorCode;
  readonly issues: readonly ProblemIssue[];
  readonly currentVersion: number | undefined;
  /** Extra response headers (e.g. WWW-Authenticate). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: ApiErrorCode,
    detail: string,
    init: {
      issues?: readonly ProblemIssue[];
      currentVersion?: number;
      headers?: Record<string, string>;
      cause?: unknown;
    } = {},
  ) {
    super(detail, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = code;
    this.issues = init.issues ?? [];
    this.currentVersion = init.currentVersion;
    this.headers = init.headers ?? {};
  }

  get status(): number {
    return API_ERRORS[this.code].status;
  }

  /** A 400 naming one body field. */
  static invalid(field: string, reason: string, where: ProblemIssue['in'] = 'body'): ApiError {
    return new ApiError('VALIDATION_FAILED', `${describeField(where, field)} ${reason}`, {
      issues: [{ in: where, field, reason }],
    });
  }
}

const QUERY_FIELDS = new Set(['/cursor', '/limit', '/since', '/until']);

const STORE_CODES: Record<StoreErrorCode, ApiErrorCode> = {
  NOT_FOUND: 'NOT_FOUND',
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  VERSION_MISMATCH: 'PRECONDITION_FAILED',
  INVALID: 'VALIDATION_FAILED',
  REFERENCED: 'REFERENCED',
  UNAVAILABLE: 'UNAVAILABLE',
};

const CA_CODES: Record<CaErrorCode, ApiErrorCode> = {
  INVALID_ARGUMENT: 'VALIDATION_FAILED',
  INVALID_SPIFFE_ID: 'VALIDATION_FAILED',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'REFERENCED',
  PERMISSION_DENIED: 'REFERENCED',
  UNAUTHENTICATED: 'UNAVAILABLE',
  CA_LOAD_FAILED: 'UNAVAILABLE',
  CA_KEY_LOCKED: 'UNAVAILABLE',
  CA_STATE_CORRUPT: 'UNAVAILABLE',
  ISSUANCE_FAILED: 'UNAVAILABLE',
};

/** fastify's own error codes that are the client's fault, and what they mean to us. */
const FASTIFY_CODES: Record<string, ApiErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
};

interface FastifyValidationItem {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/**
 * Maps anything thrown while handling a request to a problem document. The one place errors
 * become HTTP: ApiError and StoreError by code, fastify's client errors (bad JSON, too large,
 * wrong media type, schema validation) by their code, everything else to a 500 whose detail
 * hides internals (the cause is logged by the caller).
 */
export function toProblem(err: unknown, instance?: string): { problem: Problem; headers: Record<string, string> } {
  const withInstance = (p: Omit<Problem, 'instance'>): Problem =>
    instance === undefined ? p : { ...p, instance };

  if (err instanceof ApiError) {
    return { problem: withInstance(build(err.code, err.message, err.issues, err.currentVersion)), headers: { ...err.headers } };
  }
  if (err instanceof StoreError) {
    const code = STORE_CODES[err.code];
    // The store names query parameters (cursor, limit, since, until) by pointer; everything else it
    // reports is about the resource in the body.
    const issues: ProblemIssue[] = err.issues.map((i) => {
      const query = QUERY_FIELDS.has(i.field);
      return {
        in: query ? 'querystring' : 'body',
        field: query ? i.field.slice(1) : i.field,
        reason: i.resource ? `${i.reason} (in ${i.resource.kind} ${i.resource.name})` : i.reason,
      };
    });
    const detail = code === 'UNAVAILABLE' ? 'the store is not available' : err.message;
    return { problem: withInstance(build(code, detail, issues, err.currentVersion)), headers: {} };
  }
  if (err instanceof CaError) {
    const code = CA_CODES[err.code];
    // CA messages name the field and reason and never carry secrets (ca/ guarantees it); the
    // internal failures are summarised.
    const detail = code === 'UNAVAILABLE' ? `the certificate authority failed (${err.code})` : err.message;
    return { problem: withInstance(build(code, detail)), headers: {} };
  }
  const e = err as { code?: unknown; statusCode?: unknown; validation?: unknown; validationContext?: unknown; message?: unknown };
  if (Array.isArray(e.validation)) {
    const where = normalizeContext(e.validationContext);
    const issues = collapseAlternatives(e.validation as FastifyValidationItem[]).map((v) => validationIssue(where, v));
    const first = issues[0];
    const detail = first ? `${describeField(first.in, first.field)} ${first.reason}` : 'the request is invalid';
    return { problem: withInstance(build('VALIDATION_FAILED', detail, dedupe(issues))), headers: {} };
  }
  if (typeof e.code === 'string' && e.code in FASTIFY_CODES) {
    const code = FASTIFY_CODES[e.code]!;
    const message = typeof e.message === 'string' ? e.message : API_ERRORS[code].title;
    return { problem: withInstance(build(code, message)), headers: {} };
  }
  // Other client errors raised by fastify or its plugins (e.g. a 400 from a content parser,
  // proto poisoning) keep their status; anything else is a 500 with no internals.
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const code: ApiErrorCode =
      e.statusCode === 413 ? 'BODY_TOO_LARGE' : e.statusCode === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : e.statusCode === 404 ? 'NOT_FOUND' : 'VALIDATION_FAILED';
    const message = typeof e.message === 'string' ? e.message : API_ERRORS[code].title;
    return { problem: withInstance(build(code, message)), headers: {} };
  }
  return { problem: withInstance(build('INTERNAL', 'an internal error occurred; see the control plane log')), headers: {} };
}

function build(code: ApiErrorCode, detail: string, issues: readonly ProblemIssue[] = [], currentVersion?: number): Problem {
  const { status, title } = API_ERRORS[code];
  const problem: {
    -readonly [K in keyof Problem]: Problem[K];
  } = { type: `urn:meshward:problem:${code.toLowerCase().replaceAll('_', '-')}`, title, status, detail, code };
  if (issues.length > 0) problem.errors = issues;
  if (currentVersion !== undefined) problem.currentVersion = currentVersion;
  return problem;
}

function normalizeContext(ctx: unknown): ProblemIssue['in'] {
  return ctx === 'querystring' || ctx === 'params' || ctx === 'headers' ? ctx : 'body';
}

function validationIssue(where: ProblemIssue['in'], v: FastifyValidationItem): ProblemIssue {
  let field = v.instancePath ?? '';
  let reason = v.message ?? 'is invalid';
  const p = v.params ?? {};
  if (v.keyword === 'required' && typeof p['missingProperty'] === 'string') {
    field = `${field}/${escapePointer(p['missingProperty'])}`;
    reason = 'is required';
  } else if (v.keyword === 'additionalProperties' && typeof p['additionalProperty'] === 'string') {
    field = `${field}/${escapePointer(p['additionalProperty'])}`;
    reason = 'is not a known field';
  } else if (v.keyword === 'enum' && Array.isArray(p['allowedValues'])) {
    reason = `must be one of ${(p['allowedValues'] as unknown[]).map((x) => JSON.stringify(x)).join(', ')}`;
  } else if (v.keyword === 'const' && 'allowedValue' in p) {
    reason = `must be ${JSON.stringify(p['allowedValue'])}`;
  }
  if (where === 'headers' || where === 'querystring' || where === 'params') {
    // Name the parameter itself rather than a pointer.
    field = field.replace(/^\//, '');
  }
  return { in: where, field, reason };
}

/**
 * An anyOf/oneOf failure comes with the failure of every branch, which reads as contradictions
 * ("must be string", "must be object"). Keep only the combined error for such a location.
 */
function collapseAlternatives(items: FastifyValidationItem[]): FastifyValidationItem[] {
  const alternatives = items
    .filter((v) => v.keyword === 'anyOf' || v.keyword === 'oneOf')
    .map((v) => v.instancePath ?? '');
  if (alternatives.length === 0) return items;
  return items
    .filter((v) => {
      if (v.keyword === 'anyOf' || v.keyword === 'oneOf') return true;
      const path = v.instancePath ?? '';
      return !alternatives.some((a) => path === a || path.startsWith(`${a}/`));
    })
    .map((v) =>
      v.keyword === 'anyOf' || v.keyword === 'oneOf' ? { ...v, message: 'does not match any of the allowed forms (see the OpenAPI schema)' } : v,
    );
}

function escapePointer(s: string): string {
  return s.replaceAll('~', '~0').replaceAll('/', '~1');
}

function dedupe(issues: ProblemIssue[]): ProblemIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.in}\u0000${i.field}\u0000${i.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function describeField(where: ProblemIssue['in'], field: string): string {
  if (where === 'body') return field === '' ? 'the body' : `body field ${field}`;
  if (where === 'headers') return `header ${field}`;
  if (where === 'params') return `path parameter ${field}`;
  return `query parameter ${field}`;
}
