import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProblemIssue } from './problem.js';
import { createJsonSchemaValidator } from './validators.js';

/** Where the filter's own JSON Schema lives, relative to the repository root (written with the filter). */
export const FILTER_CONFIG_SCHEMA_PATH = 'filter/config.schema.json';

/**
 * Finds the repository file `relative` by walking up from this module (works from the sources under
 * tsx/vitest and from the compiled dist/ tree). Undefined when not found.
 */
export function findRepoFile(relative: string, from: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = from;
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

/** Reads the filter's config schema; undefined when the file is absent. Throws when it is not JSON. */
export function loadFilterConfigSchema(path: string | undefined = findRepoFile(FILTER_CONFIG_SCHEMA_PATH)): object | undefined {
  if (path === undefined) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as object;
}

/**
 * Compiles the filter's config schema into a check returning every violation as a body issue under
 * `pointerPrefix` (e.g. `/config/detectors/0/action`). The schema's `$schema` dialect keyword is
 * dropped so ajv's default (draft-07 / 2019 compatible subset) compiles it.
 */
export function createDlpConfigCheck(schema: object, pointerPrefix = '/config'): (config: unknown) => ProblemIssue[] {
  const ajv = createJsonSchemaValidator();
  const { $schema: _dialect, $id: _id, ...rest } = schema as Record<string, unknown>;
  const validate = ajv.compile(rest);
  return (config) => {
    if (validate(config)) return [];
    return (validate.errors ?? []).map((e) => {
      let field = `${pointerPrefix}${e.instancePath}`;
      let reason = e.message ?? 'is invalid';
      const p = e.params as Record<string, unknown>;
      if (e.keyword === 'required' && typeof p['missingProperty'] === 'string') {
        field = `${field}/${p['missingProperty']}`;
        reason = 'is required';
      } else if (e.keyword === 'additionalProperties' && typeof p['additionalProperty'] === 'string') {
        field = `${field}/${p['additionalProperty']}`;
        reason = 'is not a known field of the filter configuration';
      } else if (e.keyword === 'enum' && Array.isArray(p['allowedValues'])) {
        reason = `must be one of ${(p['allowedValues'] as unknown[]).map((x) => JSON.stringify(x)).join(', ')}`;
      }
      return { in: 'body' as const, field, reason };
    });
  };
}
