/**
 * Errors of the closed loop's modules (alerts, rollouts, reports), with a stable code. The REST
 * routes map the codes to HTTP statuses in one place (api/routes/closed-loop-errors.ts).
 */
export type ClosedLoopErrorCode = 'INVALID' | 'NOT_FOUND' | 'CONFLICT' | 'PRECONDITION_FAILED' | 'UNAVAILABLE';

export interface ClosedLoopIssue {
  /** JSON pointer into the input (`/condition/value`). */
  readonly field: string;
  readonly reason: string;
}

export class ClosedLoopError extends Error {
  override readonly name = 'ClosedLoopError';
  constructor(
    readonly code: ClosedLoopErrorCode,
    message: string,
    readonly issues: readonly ClosedLoopIssue[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  static invalid(field: string, reason: string): ClosedLoopError {
    return new ClosedLoopError('INVALID', `${field === '' ? 'body' : field}: ${reason}`, [{ field, reason }]);
  }

  static is(err: unknown): err is ClosedLoopError {
    return err instanceof ClosedLoopError;
  }
}
