/**
 * What a command may touch of the outside world. Commands never use `process` directly, so tests
 * run them in-process with captured output, a chosen environment and an abort signal.
 */
export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths are resolved against. */
  readonly cwd: string;
  /** Aborted on Ctrl-C: long-running commands (`audit --follow`) stop and exit 0. */
  readonly signal?: AbortSignal;
  /** Defaults to the global fetch. */
  readonly fetch?: typeof fetch;
}
