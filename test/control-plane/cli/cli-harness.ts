/**
 * Runs the meshward CLI in-process (runCli) against a real control plane started on ephemeral
 * ports in a temporary data directory; the CLI finds its token through --data-dir, the way a user
 * finds it after `npm start`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseSettings } from '../../../control-plane/src/config/index.js';
import { createControlPlane, type ControlPlane } from '../../../control-plane/src/control-plane.js';
import { runCli } from '../../../control-plane/src/cli/main.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliHarness {
  readonly cp: ControlPlane;
  readonly dataDir: string;
  readonly url: string;
  /** A scratch directory for input files (the CLI's cwd). */
  readonly workDir: string;
  run(args: readonly string[], options?: { env?: Record<string, string>; signal?: AbortSignal; noConnection?: boolean }): Promise<CliRun>;
  close(): Promise<void>;
}

export async function runIn(args: readonly string[], cwd: string, env: Record<string, string> = {}, signal?: AbortSignal): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    env,
    cwd,
    ...(signal === undefined ? {} : { signal }),
  });
  return { code, stdout, stderr };
}

export async function startCliHarness(): Promise<CliHarness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'meshward-cli-'));
  const workDir = mkdtempSync(join(tmpdir(), 'meshward-cli-work-'));
  const settings = parseSettings({
    env: {
      MESHWARD_DATA_DIR: dataDir,
      MESHWARD_XDS_PORT: '0',
      MESHWARD_API_PORT: '0',
      MESHWARD_DEBOUNCE_QUIET: '10ms',
      MESHWARD_DEBOUNCE_MAX_DELAY: '50ms',
      MESHWARD_LOG_LEVEL: 'silent',
    },
  });
  const cp = createControlPlane(settings, { logger: pino({ level: 'silent' }) });
  const addresses = await cp.start();
  return {
    cp,
    dataDir,
    url: addresses.api,
    workDir,
    run(args, options = {}) {
      const env = options.noConnection === true ? { ...(options.env ?? {}) } : { MESHWARD_URL: addresses.api, MESHWARD_DATA_DIR: dataDir, ...(options.env ?? {}) };
      return runIn(args, workDir, env, options.signal);
    },
    async close() {
      await cp.stop();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
