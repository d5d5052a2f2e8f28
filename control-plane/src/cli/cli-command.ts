/**
 * One `meshward` sub-command: its words (`get`, `envoy bootstrap`), help text, flags
 * (node:util parseArgs options) and a run function. Flags shared by every command that talks to
 * the REST API are in {@link CONNECTION_OPTIONS}. `run` returns the exit status; failures throw
 * {@link CliError} (mapped to exit statuses in cli-error.ts).
 */
import type { ParseArgsConfig } from 'node:util';
import type { CliIo } from './cli-io.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export type FlagValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface CliCommand {
  /** The command words, e.g. `['envoy', 'bootstrap']`. */
  readonly words: readonly string[];
  /** One line for `meshward --help`. */
  readonly summary: string;
  /** Full `--help` text (usage, flags, examples). */
  readonly help: string;
  readonly options: OptionSpec;
  /** Whether the command talks to the REST API (adds the connection flags). */
  readonly usesApi: boolean;
  run(positionals: readonly string[], flags: FlagValues, io: CliIo): Promise<number>;
}

export const CONNECTION_OPTIONS: OptionSpec = {
  url: { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
  'data-dir': { type: 'string' },
};

export const CONNECTION_HELP = `Connection (every command that talks to the control plane):
  --url <url>          REST API base URL (env MESHWARD_URL; default http://127.0.0.1:8080)
  --token <token>      API token (env MESHWARD_TOKEN)
  --token-file <path>  file holding the token (env MESHWARD_TOKEN_FILE)
  --data-dir <dir>     read <dir>/admin-token (env MESHWARD_DATA_DIR; default ./.meshward)`;

/** A string flag's value, or undefined; a usage error when given twice is left to parseArgs. */
export function stringFlag(flags: FlagValues, name: string): string | undefined {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function booleanFlag(flags: FlagValues, name: string): boolean {
  return flags[name] === true;
}
