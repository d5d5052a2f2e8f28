/**
 * Typed errors raised by a {@link Store}. Each carries a stable `code`; the REST API maps codes to
 * HTTP statuses in one place (control-plane/src/api/problem.ts), other callers switch on `code`.
 */
export type StoreErrorCode =
  /** The named resource does not exist. */
  | 'NOT_FOUND'
  /** A create named a resource that already exists. */
  | 'ALREADY_EXISTS'
  /** The caller's expected resourceVersion (If-Match) is not the current one. */
  | 'VERSION_MISMATCH'
  /** The candidate model was refused by the validator; nothing was written. */
  | 'INVALID'
  /** The change would leave another resource pointing at something that no longer exists. */
  | 'REFERENCED'
  /** The store is closed or its database is unusable. */
  | 'UNAVAILABLE';

/** One reason a candidate was refused, naming the offending field by JSON pointer. */
export interface StoreIssue {
  /** JSON pointer into the request, e.g. `/spec/versions/1/weight`; `''` for the whole resource. */
  readonly field: string;
  /** Human-readable reason, e.g. `must be between 0 and 100`. */
  readonly reason: string;
  /** The resource the issue belongs to when it is not the one being written (e.g. a referrer). */
  readonly resource?: { readonly kind: string; readonly name: string };
}

export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;
  readonly issues: readonly StoreIssue[];
  readonly resource: { readonly kind: string; readonly name: string } | undefined;
  /** Present on VERSION_MISMATCH: the version that is current. */
  readonly currentVersion: number | undefined;

  constructor(
    code: StoreErrorCode,
    message: string,
    init: {
      issues?: readonly StoreIssue[];
      resource?: { kind: string; name: string };
      currentVersion?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = code;
    this.issues = init.issues ?? [];
    this.resource = init.resource;
    this.currentVersion = init.currentVersion;
  }

  static is(err: unknown, code?: StoreErrorCode): err is StoreError {
    return err instanceof StoreError && (code === undefined || err.code === code);
  }
}
