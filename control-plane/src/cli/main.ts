/**
 * `meshward`: the command-line tool over the control plane's REST API (and the local filter for
 * `scan`). `runCli(argv, io)` is the whole program: it never touches `process`, so tests run it
 * in-process; bin/meshward.js wires it to the real process (argv, env, stdio, Ctrl-C, exit code).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { applyCommand } from './apply-command.js';
import { auditCommand } from './audit-command.js';
import type { CliCommand } from './cli-command.js';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { deleteCommand } from './delete-command.js';
import { envoyBootstrapCommand } from './envoy-bootstrap-command.js';
import { fleetCommand } from './fleet-command.js';
import { getCommand } from './get-command.js';
import { istioWasmPluginCommand } from './istio-wasmplugin-command.js';
import { reportCommand } from './report-command.js';
import { scanCommand } from './scan-command.js';

export const COMMANDS: readonly CliCommand[] = [
  getCommand,
  applyCommand,
  deleteCommand,
  fleetCommand,
  auditCommand,
  reportCommand,
  scanCommand,
  envoyBootstrapCommand,
  istioWasmPluginCommand,
];

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function topLevelHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.words.join(' ').length));
  return `meshward ${version()}: operate a meshward mesh (AI model traffic security) from the command line

usage: meshward <command> [flags]

Commands:
${COMMANDS.map((c) => `  ${c.words.join(' ').padEnd(width)}  ${c.summary}`).join('\n')}

Run \`meshward <command> --help\` for a command's flags and examples.

The control plane's REST API is found by --url / MESHWARD_URL (default http://127.0.0.1:8080);
the token by --token / MESHWARD_TOKEN / MESHWARD_TOKEN_FILE, else <data dir>/admin-token
(./.meshward by default, written by \`npm start\` on first start).

Exit status: 0 ok; 1 the control plane refused or failed; 2 usage; 3 not found;
4 cannot reach the control plane or no token; 5 scan --fail-on matched.
`;
}

function findCommand(args: readonly string[]): { command: CliCommand; rest: string[] } | undefined {
  let best: CliCommand | undefined;
  for (const c of COMMANDS) {
    if (c.words.every((w, i) => args[i] === w) && (best === undefined || c.words.length > best.words.length)) best = c;
  }
  if (best === undefined) return undefined;
  return { command: best, rest: args.slice(best.words.length) };
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    if (argv.length === 0) {
      io.stderr.write(topLevelHelp());
      return 2;
    }
    if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      const target = argv[0] === 'help' && argv.length > 1 ? findCommand(argv.slice(1)) : undefined;
      io.stdout.write(target === undefined ? topLevelHelp() : target.command.help + '\n');
      return 0;
    }
    if (argv[0] === '--version' || argv[0] === 'version') {
      io.stdout.write(`meshward ${version()}\n`);
      return 0;
    }
    const found = findCommand(argv);
    if (found === undefined) {
      const groups = COMMANDS.filter((c) => c.words.length > 1 && c.words[0] === argv[0]);
      if (groups.length > 0) {
        throw CliError.usage(`${argv[0]!}: expected one of ${groups.map((c) => c.words.slice(1).join(' ')).join(', ')} (see meshward --help)`);
      }
      throw CliError.usage(`unknown command "${argv[0]!}" (commands: ${COMMANDS.map((c) => c.words.join(' ')).join(', ')}; see meshward --help)`);
    }
    const { command, rest } = found;
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    } catch (err) {
      throw CliError.usage(`${command.words.join(' ')}: ${(err as Error).message.split('\n')[0]} (see meshward ${command.words.join(' ')} --help)`);
    }
    if (parsed.values['help'] === true) {
      io.stdout.write(command.help + '\n');
      return 0;
    }
    return await command.run(parsed.positionals, parsed.values as Record<string, string | boolean | string[] | boolean[] | undefined>, io);
  } catch (err) {
    if (err instanceof CliError) {
      io.stderr.write(`meshward: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr.write(`meshward: internal error: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}
