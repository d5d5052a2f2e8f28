/**
 * Reads resource documents for `apply` / `delete -f`: multi-document YAML (`---`), a JSON object,
 * a JSON array, or a list `{ "items": [...] }` (what `get -o json` prints). Every document needs a
 * `kind` the CLI knows and its key fields; errors name the file, the document and the field.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CliError } from './cli-error.js';
import { kindOf, keyOf, type ResourceKindInfo } from './resource-kinds.js';

export interface ResourceDocument {
  readonly kind: ResourceKindInfo;
  /** `<namespace>/<name>`, `<name>`, or undefined for the singleton mesh. */
  readonly key: string | undefined;
  /** The body to send: the document without `metadata` and `status` (server-owned). */
  readonly spec: Record<string, unknown>;
  /** `file#index` for messages. */
  readonly source: string;
}

/** Fields the server owns; dropped before comparing or sending. */
export const SERVER_FIELDS = ['kind', 'metadata', 'status'] as const;

export function specOf(doc: Record<string, unknown>): Record<string, unknown> {
  const out = { ...doc };
  for (const k of SERVER_FIELDS) delete out[k];
  return out;
}

export function parseDocuments(text: string, file: string): ResourceDocument[] {
  let raw: unknown[];
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw CliError.usage(`${file}: not valid JSON (${(err as Error).message})`);
    }
    raw = Array.isArray(parsed) ? parsed : parsed !== null && typeof parsed === 'object' && Array.isArray((parsed as { items?: unknown }).items) ? (parsed as { items: unknown[] }).items : [parsed];
  } else {
    const docs = parseAllDocuments(text);
    raw = [];
    for (const [i, d] of (Array.isArray(docs) ? docs : [docs]).entries()) {
      if (d.errors.length > 0) throw CliError.usage(`${file}#${i + 1}: not valid YAML (${d.errors[0]!.message.split('\n')[0]})`);
      const v: unknown = d.toJS();
      if (v === null || v === undefined) continue; // empty document (leading/trailing ---)
      raw.push(v);
    }
  }
  if (raw.length === 0) throw CliError.usage(`${file}: no documents`);
  return raw.map((v, i) => {
    const source = `${file}#${i + 1}`;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw CliError.usage(`${source}: a document must be an object`);
    const doc = v as Record<string, unknown>;
    if (typeof doc['kind'] !== 'string') throw CliError.usage(`${source}: kind: required (e.g. Model, DlpPolicy, Workload)`);
    let kind: ResourceKindInfo;
    try {
      kind = kindOf(doc['kind']);
    } catch (err) {
      throw CliError.usage(`${source}: kind: ${(err as Error).message}`);
    }
    if (!kind.singleton) {
      if (typeof doc['name'] !== 'string' || doc['name'] === '') throw CliError.usage(`${source}: name: required, a non-empty string`);
      if (kind.namespaced && (typeof doc['namespace'] !== 'string' || doc['namespace'] === '')) {
        throw CliError.usage(`${source}: namespace: required for ${kind.kindName}`);
      }
    }
    return { kind, key: keyOf(kind, doc), spec: specOf(doc), source };
  });
}

export function readDocuments(paths: readonly string[], cwd: string): ResourceDocument[] {
  if (paths.length === 0) throw CliError.usage('-f/--filename: required (a YAML or JSON file)');
  return paths.flatMap((p) => {
    let text: string;
    try {
      text = readFileSync(resolve(cwd, p), 'utf8');
    } catch (err) {
      throw CliError.usage(`-f ${p}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    return parseDocuments(text, p);
  });
}

/** JSON with object keys sorted: equal resources compare equal whatever their key order. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
