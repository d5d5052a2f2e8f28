#!/usr/bin/env node
// meshward CLI launcher: runs control-plane/src/cli/main.ts (through tsx, from a source checkout)
// or the compiled dist/control-plane/src/cli/main.js, and wires it to this process: argv, env,
// stdio, Ctrl-C (stops `audit --follow` cleanly) and the exit status.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = `${root}control-plane/src/cli/main.ts`;
const compiled = `${root}dist/control-plane/src/cli/main.js`;

let entry;
if (existsSync(source)) {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    entry = source;
  } catch {
    entry = undefined;
  }
}
if (entry === undefined) {
  if (!existsSync(compiled)) {
    process.stderr.write('meshward: run `npm install` (tsx) or `npm run build:ts` first\n');
    process.exit(1);
  }
  entry = compiled;
}

const { runCli } = await import(pathToFileURL(entry).href);
const abort = new AbortController();
let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  abort.abort();
});
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0); // `meshward ... | head`
  throw err;
});
const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: abort.signal,
});
process.exitCode = code;
