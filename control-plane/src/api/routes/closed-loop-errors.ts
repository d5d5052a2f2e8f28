import { ClosedLoopError, type ClosedLoopErrorCode } from '../../alerts/alert-error.js';
import { ApiError, type ApiErrorCode } from '../problem.js';

/**
 * The one place the closed loop's error codes become HTTP problems (alert rules, alerts, reports,
 * rollout guards). Issues keep their JSON pointers, reported in the part of the request they name.
 */
const CODES: Record<ClosedLoopErrorCode, ApiErrorCode> = {
  INVALID: 'VALIDATION_FAILED',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'REFERENCED',
  PRECONDITION_FAILED: 'PRECONDITION_FAILED',
  UNAVAILABLE: 'UNAVAILABLE',
};

export function toApiError(err: unknown, where: 'body' | 'querystring' = 'body'): unknown {
  if (!ClosedLoopError.is(err)) return err;
  return new ApiError(CODES[err.code], err.message, { issues: err.issues.map((i) => ({ in: where, field: i.field, reason: i.reason })), cause: err });
}

/** Runs `fn`, turning a ClosedLoopError into the matching ApiError. */
export function mapClosedLoopErrors<T>(fn: () => T, where: 'body' | 'querystring' = 'body'): T {
  try {
    return fn();
  } catch (err) {
    throw toApiError(err, where);
  }
}
