/** `-o table|yaml|json`: how commands print resources. */
import { stringify } from 'yaml';
import { CliError } from './cli-error.js';

export type OutputFormat = 'table' | 'yaml' | 'json';

export function outputFormatOf(raw: string | undefined, fallback: OutputFormat): OutputFormat {
  if (raw === undefined) return fallback;
  if (raw === 'table' || raw === 'yaml' || raw === 'json') return raw;
  throw CliError.usage(`--output: "${raw}" is not one of table, yaml, json`);
}

export function render(value: unknown, format: 'yaml' | 'json'): string {
  return format === 'json' ? JSON.stringify(value, null, 2) + '\n' : stringify(value, { lineWidth: 0 });
}
