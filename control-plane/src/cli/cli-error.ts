/**
 * The CLI's typed errors. Every failure the CLI reports is a {@link CliError} with a code; the code
 * decides the process exit status in one place ({@link EXIT_CODES}).
 */

export type CliErrorCode =
  /** Bad flags or arguments, unreadable or invalid input files. */
  | 'USAGE'
  /** The API answered with an error (validation, precondition, permission...). */
  | 'API'
  /** The resource does not exist. */
  | 'NOT_FOUND'
  /** The control plane could not be reached, or no token was found. */
  | 'CONNECTION'
  /** `scan --fail-on`: the verdict reached the given level. */
  | 'VERDICT';

/**
 * Exit statuses: 0 success; 1 the API refused or failed; 2 usage; 3 not found; 4 cannot reach the
 * control plane / no credentials; 5 `scan --fail-on` matched.
 */
export const EXIT_CODES: Readonly<Record<CliErrorCode, number>> = {
  API: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  CONNECTION: 4,
  VERDICT: 5,
};

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly code: CliErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }

  static usage(message: string): CliError {
    return new CliError('USAGE', message);
  }
}
