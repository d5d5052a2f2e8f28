/**
 * Validation results: every problem names the resource (kind + name) and the field (a JSON-path-like
 * string relative to the resource, e.g. `versions[1].weight`), with a stable code and a reason.
 */
import type { ResourceKind } from './mesh-model.js';

/**
 * - `required`: missing or empty;
 * - `invalid`: wrong type or format;
 * - `out_of_range`: a number outside its bounds;
 * - `duplicate`: a name that must be unique is not;
 * - `unknown_reference`: names a resource that does not exist;
 * - `conflict`: valid alone, contradicts another field or resource (e.g. weights not summing to 100).
 */
export type ValidationCode = 'required' | 'invalid' | 'out_of_range' | 'duplicate' | 'unknown_reference' | 'conflict';

export interface ValidationIssue {
  readonly kind: ResourceKind;
  /** The resource's name (`<namespace>/<name>` for workloads; the trust domain for `mesh`). */
  readonly name: string;
  readonly field: string;
  readonly code: ValidationCode;
  readonly reason: string;
}

/** One line per issue: `model "chat" versions[1].weight: out_of_range: must be 0..100`. */
export function formatValidationIssue(i: ValidationIssue): string {
  return `${i.kind} "${i.name}" ${i.field}: ${i.code}: ${i.reason}`;
}

/** Thrown by callers that need an exception (e.g. translateAll on an invalid model). */
export class ModelValidationError extends Error {
  readonly code = 'MODEL_INVALID' as const;
  constructor(readonly issues: readonly ValidationIssue[]) {
    super(
      `invalid mesh model (${issues.length} issue${issues.length === 1 ? '' : 's'}): ` +
        issues.slice(0, 5).map(formatValidationIssue).join('; ') +
        (issues.length > 5 ? '; ...' : ''),
    );
    this.name = 'ModelValidationError';
  }
}
