/**
 * The I/O edge of the settings: finds the config file (`--config <path>` / `--config=<path>`, else
 * `MESHWARD_CONFIG`), reads it as YAML or JSON, and hands it with the environment to the pure
 * {@link parseSettings}. `dataDir` (and every other file path) is resolved against `cwd` so the rest of the process never
 * depends on the working directory again.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseSettings } from './parse-settings.js';
import { SettingsError } from './settings-error.js';
import { CONFIG_ENV, type Settings } from './settings.js';

export interface LoadSettingsOptions {
  /** Command-line arguments after the script (`process.argv.slice(2)`). */
  readonly argv?: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Base for a relative `dataDir` and config path. Defaults to `process.cwd()`. */
  readonly cwd?: string;
}

export interface LoadedSettings {
  readonly settings: Settings;
  /** The config file read, if any (absolute path). */
  readonly configFile: string | undefined;
}

/** The config path named on the command line, else in the environment. @throws SettingsError on a bad argument. */
export function configPathOf(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): { path: string; source: string } | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config' || a === '-c') {
      const p = argv[i + 1];
      if (p === undefined || p === '' || p.startsWith('-')) {
        throw new SettingsError([{ setting: 'config', source: a, reason: 'needs a file path: --config <path>' }]);
      }
      return { path: p, source: a };
    }
    if (a.startsWith('--config=')) {
      const p = a.slice('--config='.length);
      if (p === '') throw new SettingsError([{ setting: 'config', source: '--config', reason: 'needs a file path: --config=<path>' }]);
      return { path: p, source: '--config' };
    }
    throw new SettingsError([{ setting: a, source: 'command line', reason: 'unknown argument (usage: main.js [--config <file.yaml|file.json>])' }]);
  }
  const fromEnv = env[CONFIG_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { path: fromEnv.trim(), source: `env ${CONFIG_ENV}` };
  return undefined;
}

/** Parses a config document: JSON for `.json`, YAML otherwise (YAML is a superset of JSON). */
export function parseConfigDocument(text: string, fileName: string): unknown {
  try {
    if (fileName.toLowerCase().endsWith('.json')) return JSON.parse(text) as unknown;
    return parseYaml(text, { prettyErrors: true, uniqueKeys: true }) as unknown;
  } catch (err) {
    throw new SettingsError([{ setting: '(config file)', source: `file ${fileName}`, reason: `is not valid ${fileName.toLowerCase().endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}` }], {
      cause: err,
    });
  }
}

/** Reads and validates the settings. @throws SettingsError naming the bad setting(s). */
export function loadSettings(options: LoadSettingsOptions = {}): LoadedSettings {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const named = configPathOf(options.argv ?? [], env);
  let file: { name: string; content: unknown } | undefined;
  let configFile: string | undefined;
  if (named !== undefined) {
    configFile = isAbsolute(named.path) ? named.path : resolve(cwd, named.path);
    let text: string;
    try {
      text = readFileSync(configFile, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new SettingsError([{ setting: 'config', source: named.source, reason: `cannot read ${configFile} (${code ?? (err as Error).message})` }], { cause: err });
    }
    file = { name: configFile, content: parseConfigDocument(text, configFile) };
  }
  const parsed = parseSettings({ ...(file !== undefined ? { file } : {}), env });
  const settings: Settings = Object.freeze({
    ...parsed,
    dataDir: resolve(cwd, parsed.dataDir),
    ca: Object.freeze({
      ...parsed.ca,
      operatorCa:
        parsed.ca.operatorCa === undefined
          ? undefined
          : Object.freeze({
              certificateFile: resolve(cwd, parsed.ca.operatorCa.certificateFile),
              privateKeyFile: resolve(cwd, parsed.ca.operatorCa.privateKeyFile),
              rootFile: resolve(cwd, parsed.ca.operatorCa.rootFile),
            }),
    }),
    alerts: Object.freeze({
      ...parsed.alerts,
      file: parsed.alerts.file === undefined ? undefined : resolve(cwd, parsed.alerts.file),
      syslog:
        parsed.alerts.syslog === undefined
          ? undefined
          : Object.freeze({ ...parsed.alerts.syslog, caFile: parsed.alerts.syslog.caFile === undefined ? undefined : resolve(cwd, parsed.alerts.syslog.caFile) }),
    }),
  });
  return { settings, configFile };
}
