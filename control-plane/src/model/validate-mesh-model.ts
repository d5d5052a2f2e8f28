/**
 * The one validation of a {@link MeshModel}: pure, total (never throws, whatever the input's shape,
 * since models arrive as JSON), returning every issue found. An empty list means the model can be
 * stored and translated. The REST API runs it on the model *with* the proposed change applied, and
 * the snapshot builder runs it again before translating; a model with issues is rejected whole.
 */
import { isIP } from 'node:net';
import { OPERATION_SET_NAMES, WEEKDAYS } from './authorization-policy.js';
import { BUDGET_ON_EXCEED, BUDGET_WINDOWS, MODEL_PATTERN } from './budget.js';
import type { MeshModel, ResourceKind } from './mesh-model.js';
import { MTLS_MODES } from './mesh-settings.js';
import { MODEL_PROTOCOLS } from './model-service.js';
import { parsePathPattern } from './path-pattern.js';
import { isValidIdentityName, isValidTrustDomain, parsePrincipalPattern, parseSpiffeId } from './spiffe-id.js';
import { isValidTimeZone, parseClock } from './time-window.js';
import type { ValidationCode, ValidationIssue } from './validation-issue.js';
import { WORKLOAD_ROLES, workloadKey } from './workload.js';

/** Resource names: lower-case letters, digits, '-', '.', '_'; alphanumeric at both ends; max 63. */
export const RESOURCE_NAME = /^[a-z0-9]([-a-z0-9._]{0,61}[a-z0-9])?$/;
/** Model names in the model header: printable ASCII without spaces or commas, max 256. */
const MODEL_NAME_VALUE = /^[\x21-\x2b\x2d-\x7e]{1,256}$/;
const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/;
const HTTP_TOKEN = /^[A-Z][A-Z0-9-]*$/;
const HEADER_NAME = /^:?[a-z0-9!#$%&'*+.^_`|~-]+$/;
const SHA256 = /^[0-9a-f]{64}$/;
const LABEL_KEY = /^[A-Za-z0-9]([-A-Za-z0-9_./]{0,251}[A-Za-z0-9])?$/;

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

class Issues {
  readonly list: ValidationIssue[] = [];
  at(kind: ResourceKind, name: string): Scope {
    return new Scope(this, kind, name);
  }
}

class Scope {
  constructor(
    private readonly issues: Issues,
    readonly kind: ResourceKind,
    readonly name: string,
  ) {}
  add(field: string, code: ValidationCode, reason: string): void {
    this.issues.list.push({ kind: this.kind, name: this.name, field, code, reason });
  }
  /** A name-like string; returns it when valid. */
  nameField(v: unknown, field: string, re = RESOURCE_NAME, what = "lower-case letters, digits, '-', '.', '_' (alphanumeric at both ends, max 63)"): string | undefined {
    if (v === undefined || v === null || v === '') {
      this.add(field, 'required', 'is required');
      return undefined;
    }
    if (typeof v !== 'string') {
      this.add(field, 'invalid', 'must be a string');
      return undefined;
    }
    if (!re.test(v)) {
      this.add(field, 'invalid', `'${v}' must be ${what}`);
      return undefined;
    }
    return v;
  }
  int(v: unknown, field: string, min: number, max: number, required = false): number | undefined {
    if (v === undefined) {
      if (required) this.add(field, 'required', 'is required');
      return undefined;
    }
    if (!isInt(v)) {
      this.add(field, 'invalid', 'must be an integer');
      return undefined;
    }
    if (v < min || v > max) {
      this.add(field, 'out_of_range', `${v} must be ${min}..${max}`);
      return undefined;
    }
    return v;
  }
  bool(v: unknown, field: string): void {
    if (v !== undefined && typeof v !== 'boolean') this.add(field, 'invalid', 'must be true or false');
  }
  oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[], required = false): T | undefined {
    if (v === undefined) {
      if (required) this.add(field, 'required', `is required (one of ${allowed.join(', ')})`);
      return undefined;
    }
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.add(field, 'invalid', `must be one of ${allowed.join(', ')}`);
      return undefined;
    }
    return v as T;
  }
  /** An array (optional unless `required`); returns [] when absent or invalid. */
  array(v: unknown, field: string, required = false): readonly unknown[] {
    if (v === undefined) {
      if (required) this.add(field, 'required', 'is required');
      return [];
    }
    if (!Array.isArray(v)) {
      this.add(field, 'invalid', 'must be an array');
      return [];
    }
    if (required && v.length === 0) this.add(field, 'required', 'must not be empty');
    return v;
  }
  object(v: unknown, field: string, required = false): Obj | undefined {
    if (v === undefined) {
      if (required) this.add(field, 'required', 'is required');
      return undefined;
    }
    if (!isObj(v)) {
      this.add(field, 'invalid', 'must be an object');
      return undefined;
    }
    return v;
  }
  strings(v: unknown, field: string, check: (s: string, f: string) => void, unique = true): string[] {
    const out: string[] = [];
    const seen = new Set<string>();
    this.array(v, field).forEach((s, i) => {
      const f = `${field}[${i}]`;
      if (typeof s !== 'string' || s === '') {
        this.add(f, typeof s === 'string' ? 'required' : 'invalid', 'must be a non-empty string');
        return;
      }
      if (unique && seen.has(s)) this.add(f, 'duplicate', `'${s}' is listed twice`);
      seen.add(s);
      check(s, f);
      out.push(s);
    });
    return out;
  }
  spiffeId(v: string, field: string): void {
    const r = parseSpiffeId(v);
    if (typeof r === 'string') this.add(field, 'invalid', `'${v}' is not a SPIFFE ID: ${r}`);
  }
}

function duplicates(scope: (name: string) => Scope, names: readonly (string | undefined)[], what: string): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (n === undefined) continue;
    if (seen.has(n)) scope(n).add('name', 'duplicate', `another ${what} is named '${n}'`);
    seen.add(n);
  }
}

const nameOf = (v: unknown, fallback: string): string => (isObj(v) && typeof v['name'] === 'string' && v['name'] !== '' ? v['name'] : fallback);

/**
 * Validates the whole model: shapes, formats, ranges, uniqueness and cross-references
 * (workload → model/version, policies → models/workloads, DLP policy → filter module).
 */
export function validateMeshModel(model: MeshModel): ValidationIssue[] {
  const issues = new Issues();
  const m = model as unknown;
  if (!isObj(m)) {
    issues.at('mesh', '').add('', 'invalid', 'the model must be an object');
    return issues.list;
  }

  // --- mesh
  const meshObj = m['mesh'];
  const meshName = isObj(meshObj) && typeof meshObj['trustDomain'] === 'string' ? meshObj['trustDomain'] : '';
  const ms = issues.at('mesh', meshName);
  let trustDomain: string | undefined;
  const mesh = ms.object(meshObj, 'mesh', true);
  if (mesh) {
    const td = mesh['trustDomain'];
    if (typeof td !== 'string' || td === '') ms.add('trustDomain', 'required', 'is required');
    else if (!isValidTrustDomain(td)) ms.add('trustDomain', 'invalid', `'${td}' must be lower-case letters, digits, '.', '-', '_' (no scheme or port)`);
    else trustDomain = td;
    ms.oneOf(mesh['mtlsMode'], 'mtlsMode', MTLS_MODES);
    const nsModes = ms.object(mesh['namespaceMtlsModes'], 'namespaceMtlsModes');
    if (nsModes) {
      for (const [ns, mode] of Object.entries(nsModes)) {
        if (!isValidIdentityName(ns)) ms.add(`namespaceMtlsModes.${ns}`, 'invalid', `namespace '${ns}' must be an RFC 1123 label`);
        ms.oneOf(mode, `namespaceMtlsModes.${ns}`, MTLS_MODES, true);
      }
    }
    const al = ms.object(mesh['accessLog'], 'accessLog');
    if (al) ms.bool(al['enabled'], 'accessLog.enabled');
  }

  const list = (key: keyof MeshModel): readonly unknown[] => {
    const v = m[key];
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      issues.at('mesh', meshName).add(key, 'invalid', 'must be an array');
      return [];
    }
    return v;
  };
  const workloads = list('workloads');
  const models = list('models');
  const authz = list('authorizationPolicies');
  const rateLimits = list('rateLimits');
  const dlp = list('dlpPolicies');
  const modules = list('filterModules');

  // --- models (first: others reference them)
  const modelVersions = new Map<string, Set<string>>();
  /** Model name → first version with a hostname endpoint (proxyless clients need IP literals). */
  const hostnameVersions = new Map<string, string>();
  const headerOwners = new Map<string, string>();
  const dedicatedOwners = new Map<string, string>();
  models.forEach((raw, idx) => {
    const s = issues.at('model', nameOf(raw, `#${idx}`));
    if (!isObj(raw)) {
      s.add('', 'invalid', 'must be an object');
      return;
    }
    const name = s.nameField(raw['name'], 'name');
    const versionNames = new Set<string>();
    if (name && !modelVersions.has(name)) modelVersions.set(name, versionNames);
    const names = raw['modelNames'] === undefined ? (name ? [name] : []) : s.strings(raw['modelNames'], 'modelNames', (v, f) => {
      if (!MODEL_NAME_VALUE.test(v)) s.add(f, 'invalid', `'${v}' must be printable ASCII without spaces or commas (max 256)`);
    });
    if (raw['modelNames'] !== undefined && names.length === 0) s.add('modelNames', 'required', 'must not be empty (omit it to default to the model name)');
    for (const n of names) {
      const owner = headerOwners.get(n);
      if (owner !== undefined && owner !== name) s.add('modelNames', 'conflict', `model name '${n}' is already served by model '${owner}'`);
      else if (name) headerOwners.set(n, name);
    }
    const prefix = (v: string, f: string): void => {
      const r = parsePathPattern(v);
      if (typeof r === 'string') s.add(f, 'invalid', `'${v}' ${r}`);
      else if (v.includes('*')) s.add(f, 'invalid', `'${v}' must be a literal prefix (no '*')`);
    };
    s.strings(raw['pathPrefixes'], 'pathPrefixes', prefix);
    for (const p of s.strings(raw['dedicatedPathPrefixes'], 'dedicatedPathPrefixes', prefix)) {
      const owner = dedicatedOwners.get(p);
      if (owner !== undefined && owner !== name) s.add('dedicatedPathPrefixes', 'conflict', `prefix '${p}' is already dedicated to model '${owner}'`);
      else if (name) dedicatedOwners.set(p, name);
    }
    s.oneOf(raw['protocol'], 'protocol', MODEL_PROTOCOLS);
    s.int(raw['timeoutMs'], 'timeoutMs', 0, 86_400_000);
    s.int(raw['idleTimeoutMs'], 'idleTimeoutMs', 0, 86_400_000);
    const retries = s.object(raw['retries'], 'retries');
    if (retries) {
      s.int(retries['attempts'], 'retries.attempts', 0, 10);
      s.int(retries['perTryTimeoutMs'], 'retries.perTryTimeoutMs', 1, 86_400_000);
      s.strings(retries['retryOn'], 'retries.retryOn', (v, f) => {
        if (!/^[a-z0-9-]+$/.test(v)) s.add(f, 'invalid', `'${v}' is not an Envoy retry_on condition`);
      });
      const codes = s.array(retries['retriableStatusCodes'], 'retries.retriableStatusCodes');
      codes.forEach((c, i) => s.int(c, `retries.retriableStatusCodes[${i}]`, 100, 599, true));
    }
    const versions = s.array(raw['versions'], 'versions', true);
    let sum = 0;
    let weighted = 0;
    versions.forEach((vr, vi) => {
      const vf = `versions[${vi}]`;
      if (!isObj(vr)) {
        s.add(vf, 'invalid', 'must be an object');
        return;
      }
      const vn = s.nameField(vr['name'], `${vf}.name`);
      if (vn) {
        if (versionNames.has(vn)) s.add(`${vf}.name`, 'duplicate', `version '${vn}' is defined twice`);
        versionNames.add(vn);
      }
      const w = s.int(vr['weight'], `${vf}.weight`, 0, 100, versions.length > 1);
      if (w !== undefined) {
        sum += w;
        weighted++;
      }
      s.oneOf(vr['upstreamTls'], `${vf}.upstreamTls`, ['MUTUAL', 'DISABLE'] as const);
      s.strings(vr['identities'], `${vf}.identities`, (v, f) => s.spiffeId(v, f));
      const eps = s.array(vr['endpoints'], `${vf}.endpoints`, true);
      eps.forEach((ep, ei) => {
        const ef = `${vf}.endpoints[${ei}]`;
        if (!isObj(ep)) {
          s.add(ef, 'invalid', 'must be an object');
          return;
        }
        const a = ep['address'];
        if (typeof a !== 'string' || a === '') s.add(`${ef}.address`, 'required', 'is required (IP literal or hostname)');
        else if (isIP(a) === 0 && !HOSTNAME.test(a)) s.add(`${ef}.address`, 'invalid', `'${a}' is neither an IP literal nor a hostname`);
        else if (isIP(a) === 0 && name && vn && !hostnameVersions.has(name)) hostnameVersions.set(name, vn);
        s.int(ep['port'], `${ef}.port`, 1, 65535, true);
        s.int(ep['weight'], `${ef}.weight`, 1, 128);
        const loc = s.object(ep['locality'], `${ef}.locality`);
        if (loc) {
          for (const k of ['region', 'zone', 'subZone']) {
            if (loc[k] !== undefined && typeof loc[k] !== 'string') s.add(`${ef}.locality.${k}`, 'invalid', 'must be a string');
          }
        }
      });
    });
    if (versions.length > 1 && weighted === versions.length && sum !== 100) {
      s.add('versions', 'conflict', `version weights sum to ${sum}, must sum to 100`);
    } else if (versions.length === 1 && weighted === 1 && sum !== 100) {
      s.add('versions[0].weight', 'conflict', `a single version takes all traffic: weight must be 100 or absent, not ${sum}`);
    }
  });
  duplicates((n) => issues.at('model', n), models.map((x) => (isObj(x) && typeof x['name'] === 'string' ? x['name'] : undefined)), 'model');

  const modelRef = (s: Scope, v: unknown, field: string): string | undefined => {
    const n = s.nameField(v, field);
    if (n && !modelVersions.has(n)) {
      s.add(field, 'unknown_reference', `model '${n}' does not exist`);
      return undefined;
    }
    return n;
  };

  // --- workloads
  const workloadKeys = new Set<string>();
  const namespaces = new Set<string>();
  workloads.forEach((raw, idx) => {
    const key = isObj(raw) && typeof raw['namespace'] === 'string' && typeof raw['name'] === 'string' ? `${raw['namespace']}/${raw['name']}` : `#${idx}`;
    const s = issues.at('workload', key);
    if (!isObj(raw)) {
      s.add('', 'invalid', 'must be an object');
      return;
    }
    const labelMsg = "an RFC 1123 label (lower-case letters, digits, '-'; max 63)";
    const dns = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
    const name = s.nameField(raw['name'], 'name', dns, labelMsg);
    const ns = s.nameField(raw['namespace'], 'namespace', dns, labelMsg);
    s.nameField(raw['serviceAccount'], 'serviceAccount', dns, labelMsg);
    if (name && ns) {
      const k = workloadKey({ namespace: ns, name });
      if (workloadKeys.has(k)) s.add('name', 'duplicate', `another workload in namespace '${ns}' is named '${name}'`);
      workloadKeys.add(k);
      namespaces.add(ns);
    }
    const role = s.oneOf(raw['role'], 'role', WORKLOAD_ROLES, true);
    s.oneOf(raw['mtlsMode'], 'mtlsMode', MTLS_MODES);
    const labels = s.object(raw['labels'], 'labels');
    if (labels) {
      for (const [k, v] of Object.entries(labels)) {
        if (!LABEL_KEY.test(k)) s.add(`labels.${k}`, 'invalid', `label key '${k}' has characters other than letters, digits, '-', '_', '.', '/'`);
        if (typeof v !== 'string') s.add(`labels.${k}`, 'invalid', 'label values must be strings');
      }
    }
    const listener = s.object(raw['listener'], 'listener');
    if (listener) {
      const a = listener['address'];
      if (a !== undefined && (typeof a !== 'string' || isIP(a) === 0)) s.add('listener.address', 'invalid', 'must be an IP literal (e.g. 0.0.0.0)');
      s.int(listener['port'], 'listener.port', 1, 65535);
    }
    const serves = s.object(raw['serves'], 'serves', role === 'sidecar');
    if (serves) {
      if (role === 'gateway') s.add('serves', 'invalid', 'a gateway does not serve a model version (use models)');
      const model = modelRef(s, serves['model'], 'serves.model');
      const version = s.nameField(serves['version'], 'serves.version');
      if (model && version && !modelVersions.get(model)!.has(version)) {
        s.add('serves.version', 'unknown_reference', `model '${model}' has no version '${version}'`);
      }
      const appPort = s.int(serves['appPort'], 'serves.appPort', 1, 65535);
      if (role === 'sidecar' && listener !== undefined && listener['port'] !== undefined && listener['port'] === (appPort ?? 8000)) {
        s.add('listener.port', 'conflict', `the sidecar cannot listen on the model server's own port ${String(listener['port'])}`);
      }
      if (role === 'proxyless' && (listener === undefined || listener['port'] === undefined)) {
        s.add('listener.port', 'required', 'a proxyless gRPC server needs its listening port');
      }
    }
    if (raw['models'] !== undefined) {
      if (role === 'sidecar') s.add('models', 'invalid', 'a sidecar fronts the model in serves; models is for gateways and proxyless clients');
      s.array(raw['models'], 'models').forEach((mv, i) => {
        const ref = modelRef(s, mv, `models[${i}]`);
        const hv = ref === undefined ? undefined : hostnameVersions.get(ref);
        if (role === 'proxyless' && hv !== undefined) {
          s.add(`models[${i}]`, 'conflict', `proxyless gRPC clients need IP endpoints; model '${ref}' version '${hv}' has a hostname`);
        }
      });
    }
  });

  // --- authorization policies
  authz.forEach((raw, idx) => {
    const s = issues.at('authorizationPolicy', nameOf(raw, `#${idx}`));
    if (!isObj(raw)) {
      s.add('', 'invalid', 'must be an object');
      return;
    }
    s.nameField(raw['name'], 'name');
    if (raw['action'] !== undefined && raw['action'] !== 'ALLOW') s.add('action', 'invalid', 'only ALLOW is supported (everything not allowed is denied)');
    s.bool(raw['dryRun'], 'dryRun');
    s.strings(raw['workloads'], 'workloads', (v, f) => {
      const [ns, n, extra] = v.split('/');
      if (extra !== undefined || ns === undefined || n === undefined || !isValidIdentityName(ns) || (n !== '*' && !isValidIdentityName(n))) {
        s.add(f, 'invalid', `'${v}' must be '<namespace>/<name>' or '<namespace>/*'`);
      } else if (n === '*' ? !namespaces.has(ns) : !workloadKeys.has(v)) {
        s.add(f, 'unknown_reference', n === '*' ? `no workload in namespace '${ns}'` : `workload '${v}' does not exist`);
      }
    });
    const rules = s.array(raw['rules'], 'rules', true);
    rules.forEach((rr, ri) => {
      const rf = `rules[${ri}]`;
      if (!isObj(rr)) {
        s.add(rf, 'invalid', 'must be an object');
        return;
      }
      s.strings(rr['from'], `${rf}.from`, (v, f) => {
        const p = parsePrincipalPattern(v);
        if (typeof p === 'string') s.add(f, 'invalid', `'${v}': ${p}`);
        else if (trustDomain && p.kind !== 'authenticated') {
          const td = p.kind === 'exact' ? (parseSpiffeId(p.spiffeId) as { trustDomain: string }).trustDomain : p.trustDomain;
          if (td !== trustDomain) s.add(f, 'conflict', `'${v}' is outside the mesh's trust domain '${trustDomain}' (its certificates could never match)`);
        }
      });
      s.strings(rr['to'], `${rf}.to`, (v, f) => {
        if (!(OPERATION_SET_NAMES as readonly string[]).includes(v)) s.add(f, 'invalid', `'${v}' must be one of ${OPERATION_SET_NAMES.join(', ')}`);
      });
      s.array(rr['operations'], `${rf}.operations`).forEach((op, oi) => {
        const of = `${rf}.operations[${oi}]`;
        if (!isObj(op)) {
          s.add(of, 'invalid', 'must be an object');
          return;
        }
        const methods = s.strings(op['methods'], `${of}.methods`, (v, f) => {
          if (!HTTP_TOKEN.test(v)) s.add(f, 'invalid', `'${v}' must be an upper-case HTTP method`);
        });
        const paths = s.strings(op['paths'], `${of}.paths`, (v, f) => {
          const p = parsePathPattern(v);
          if (typeof p === 'string') s.add(f, 'invalid', `'${v}' ${p}`);
        });
        if (methods.length === 0 && paths.length === 0) s.add(of, 'required', 'needs methods or paths (omit the operation to allow any)');
      });
      s.array(rr['headers'], `${rf}.headers`).forEach((h, hi) => {
        const hf = `${rf}.headers[${hi}]`;
        if (!isObj(h)) {
          s.add(hf, 'invalid', 'must be an object');
          return;
        }
        s.nameField(h['name'], `${hf}.name`, HEADER_NAME, 'a lower-case header name');
        const op = s.oneOf(h['op'], `${hf}.op`, ['exact', 'prefix', 'suffix', 'contains', 'regex', 'present'] as const, true);
        const value = h['value'];
        if (op && op !== 'present') {
          if (typeof value !== 'string' || (value === '' && op !== 'exact')) s.add(`${hf}.value`, 'required', `is required for op '${op}'`);
          else if (op === 'regex') {
            try {
              new RegExp(value);
              if (/\(\?[=!<]|\\[1-9]/.test(value)) s.add(`${hf}.value`, 'invalid', 'lookaround and backreferences are not RE2');
            } catch (e) {
              s.add(`${hf}.value`, 'invalid', `not a valid regular expression: ${(e as Error).message}`);
            }
          }
        } else if (op === 'present' && value !== undefined) s.add(`${hf}.value`, 'invalid', "must be absent for op 'present'");
        s.bool(h['invert'], `${hf}.invert`);
      });
      s.array(rr['models'], `${rf}.models`).forEach((mv, i) => modelRef(s, mv, `${rf}.models[${i}]`));
      s.array(rr['when'], `${rf}.when`).forEach((w, wi) => {
        const wf = `${rf}.when[${wi}]`;
        if (!isObj(w)) {
          s.add(wf, 'invalid', 'must be an object');
          return;
        }
        s.strings(w['days'], `${wf}.days`, (v, f) => {
          if (!(WEEKDAYS as readonly string[]).includes(v)) s.add(f, 'invalid', `'${v}' must be one of ${WEEKDAYS.join(', ')}`);
        });
        for (const k of ['start', 'end'] as const) {
          const v = w[k];
          if (v === undefined) s.add(`${wf}.${k}`, 'required', "is required ('HH:MM')");
          else if (typeof v !== 'string' || parseClock(v) === undefined) s.add(`${wf}.${k}`, 'invalid', "must be 'HH:MM' (00:00..24:00)");
        }
        if (w['start'] === '24:00') s.add(`${wf}.start`, 'invalid', "'24:00' is only allowed as end");
        const tz = w['timeZone'];
        if (tz !== undefined && (typeof tz !== 'string' || !isValidTimeZone(tz))) s.add(`${wf}.timeZone`, 'invalid', `'${String(tz)}' is not an IANA time zone`);
      });
    });
  });
  duplicates((n) => issues.at('authorizationPolicy', n), authz.map((x) => (isObj(x) && typeof x['name'] === 'string' ? x['name'] : undefined)), 'authorization policy');

  // --- rate limits
  const limitedModels = new Map<string, string>();
  const bucket = (s: Scope, v: unknown, field: string, required: boolean): void => {
    const b = s.object(v, field, required);
    if (!b) return;
    s.int(b['maxTokens'], `${field}.maxTokens`, 1, 1_000_000_000, true);
    s.int(b['tokensPerFill'], `${field}.tokensPerFill`, 1, 1_000_000_000);
    s.int(b['fillIntervalMs'], `${field}.fillIntervalMs`, 50, 86_400_000, true);
  };
  rateLimits.forEach((raw, idx) => {
    const s = issues.at('rateLimit', nameOf(raw, `#${idx}`));
    if (!isObj(raw)) {
      s.add('', 'invalid', 'must be an object');
      return;
    }
    const name = s.nameField(raw['name'], 'name');
    const model = modelRef(s, raw['model'], 'model');
    if (model) {
      const other = limitedModels.get(model);
      if (other !== undefined && other !== name) s.add('model', 'conflict', `model '${model}' already has rate limit '${other}'`);
      else if (name) limitedModels.set(model, name);
    }
    bucket(s, raw['bucket'], 'bucket', false);
    const callers = s.array(raw['callers'], 'callers');
    const principals = new Set<string>();
    callers.forEach((c, ci) => {
      const cf = `callers[${ci}]`;
      if (!isObj(c)) {
        s.add(cf, 'invalid', 'must be an object');
        return;
      }
      const p = c['principal'];
      if (typeof p !== 'string' || p === '') s.add(`${cf}.principal`, 'required', 'is required (an exact SPIFFE ID)');
      else {
        const id = parseSpiffeId(p);
        if (typeof id === 'string' || id.path === '') s.add(`${cf}.principal`, 'invalid', `'${p}' must be an exact SPIFFE ID${typeof id === 'string' ? `: ${id}` : ''}`);
        if (principals.has(p)) s.add(`${cf}.principal`, 'duplicate', `'${p}' has two buckets`);
        principals.add(p);
      }
      bucket(s, c['bucket'], `${cf}.bucket`, true);
    });
    if (raw['bucket'] === undefined && callers.length === 0) s.add('bucket', 'required', 'a rate limit needs a bucket or callers');
    s.bool(raw['dryRun'], 'dryRun');
  });
  duplicates((n) => issues.at('rateLimit', n), rateLimits.map((x) => (isObj(x) && typeof x['name'] === 'string' ? x['name'] : undefined)), 'rate limit');

  // --- filter modules
  const moduleNames = new Set<string>();
  modules.forEach((raw, idx) => {
    const s = issues.at('filterModule', nameOf(raw, `#${idx}`));
    if (!isObj(raw)) {
      s.add('', 'invalid', 'must be an object');
      return;
    }
    const name = s.nameField(raw['name'], 'name');
    if (name) moduleNames.add(name);
    const sha = raw['sha256'];
    if (sha !== undefined && (typeof sha !== 'string' || !SHA256.test(sha))) s.add('sha256', 'invalid', 'must be 64 lower-case hex characters');
    s.bool(raw['allowPrecompiled'], 'allowPrecompiled');
    const src = s.object(raw['source'], 'source', true);
    if (!src) return;
    const kind = s.oneOf(src['kind'], 'source.kind', ['local', 'remote'] as const, true);
    if (kind === 'local') {
      const p = src['path'];
      if (typeof p !== 'string' || p === '') s.add('source.path', 'required', 'is required (absolute path on the proxy host)');
      else if (!p.startsWith('/') || p.includes('\0')) s.add('source.path', 'invalid', 'must be an absolute path');
    } else if (kind === 'remote') {
      const u = src['url'];
      if (typeof u !== 'string' || u === '') s.add('source.url', 'required', 'is required');
      else {
        let url: URL | undefined;
        try {
          url = new URL(u);
        } catch {
          s.add('source.url', 'invalid', `'${u}' is not a URL`);
        }
        if (url && url.protocol !== 'http:' && url.protocol !== 'https:') s.add('source.url', 'invalid', 'must be an http:// or https:// URL');
        else if (url && (url.username !== '' || url.password !== '')) s.add('source.url', 'invalid', 'must not carry credentials');
      }
      if (sha === undefined) s.add('sha256', 'required', 'is required for a remote module (Envoy verifies the download)');
      s.int(src['timeoutMs'], 'source.timeoutMs', 1, 600_000);
      s.int(src['retries'], 'source.retries', 0, 10);
    }
  });
  duplicates((n) => issues.at('filterModule', n), modules.map((x) => (isObj(x) && typeof x['name'] === 'string' ? x['name'] : undefined)), 'filter module');

  // --- DLP policies
  const scopes = new Map<string, string>();
  dlp.forEach((raw, idx) => {
    const s = issues.at('dlpPolicy', nameOf(raw, `#${idx}`));
    if (!isObj(raw)) {
      s.add('', 'invalid', 'must be an object');
      return;
    }
    const name = s.nameField(raw['name'], 'name');
    const scope = s.object(raw['scope'], 'scope', true);
    let scopeKey: string | undefined;
    if (scope) {
      const kind = s.oneOf(scope['kind'], 'scope.kind', ['global', 'model'] as const, true);
      if (kind === 'global') scopeKey = 'global';
      else if (kind === 'model') {
        const mm = modelRef(s, scope['model'], 'scope.model');
        if (mm) scopeKey = `model ${mm}`;
      }
    }
    if (scopeKey) {
      const other = scopes.get(scopeKey);
      if (other !== undefined && other !== name) s.add('scope', 'conflict', `DLP policy '${other}' already has scope ${scopeKey}`);
      else if (name) scopes.set(scopeKey, name);
    }
    s.object(raw['config'], 'config', true);
    s.oneOf(raw['failureMode'], 'failureMode', ['FAIL_CLOSED', 'FAIL_OPEN'] as const);
    const mod = raw['module'];
    if (mod !== undefined) {
      const n = s.nameField(mod, 'module');
      if (n && !moduleNames.has(n)) s.add('module', 'unknown_reference', `filter module '${n}' does not exist`);
    } else if (moduleNames.size === 0) {
      s.add('module', 'unknown_reference', 'no filter module exists to run this policy');
    } else if (moduleNames.size > 1 && !moduleNames.has('default')) {
      s.add('module', 'required', "several filter modules exist and none is named 'default': name one");
    }
  });
  duplicates((n) => issues.at('dlpPolicy', n), dlp.map((x) => (isObj(x) && typeof x['name'] === 'string' ? x['name'] : undefined)), 'DLP policy');

  // --- budgets and model access lists (model/budget.ts): delivered in the global DLP policy
  const budgets = list('budgets');
  const accessLists = list('modelAccessLists');
  const principalList = (s: Scope, v: unknown, field: string): void => {
    if (v === undefined) {
      s.add(field, 'required', 'is required (caller patterns)');
      return;
    }
    const ps = s.strings(v, field, (p, f) => {
      const r = parsePrincipalPattern(p);
      if (typeof r === 'string') s.add(f, 'invalid', `'${p}' ${r}`);
    });
    if (Array.isArray(v) && ps.length === 0 && v.length === 0) s.add(field, 'required', 'must not be empty');
  };
  const modelPatterns = (s: Scope, v: unknown, field: string): void => {
    s.strings(v, field, (p, f) => {
      if (!MODEL_PATTERN.test(p)) s.add(f, 'invalid', `'${p}' must be printable ASCII without spaces (max 256), '*' as wildcard`);
    });
  };
  const weight = (s: Scope, v: unknown, field: string): void => {
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isFinite(v)) s.add(field, 'invalid', 'must be a number');
    else if (v < 0 || v > 1000) s.add(field, 'out_of_range', `${v} must be 0..1000`);
    else if (Math.abs(Math.round(v * 1000) - v * 1000) > 1e-6) s.add(field, 'invalid', `${v} must have at most 3 decimals`);
  };
  budgets.forEach((raw, idx) => {
    const s = issues.at('budget', nameOf(raw, `#${idx}`));
    if (!isObj(raw)) {
      s.add('', 'invalid', 'must be an object');
      return;
    }
    s.nameField(raw['name'], 'name');
    principalList(s, raw['principals'], 'principals');
    if (raw['models'] !== undefined) {
      modelPatterns(s, raw['models'], 'models');
      if (Array.isArray(raw['models']) && raw['models'].length === 0) s.add('models', 'required', 'must not be empty (omit it for every model)');
    }
    if (raw['routes'] !== undefined) {
      s.array(raw['routes'], 'routes').forEach((mv, i) => modelRef(s, mv, `routes[${i}]`));
      if (Array.isArray(raw['routes']) && raw['routes'].length === 0) s.add('routes', 'required', 'must not be empty (omit it for every route)');
    }
    s.int(raw['tokens'], 'tokens', 1, 1_000_000_000_000, true);
    s.oneOf(raw['window'], 'window', BUDGET_WINDOWS, true);
    s.bool(raw['shared'], 'shared');
    s.oneOf(raw['onExceed'], 'onExceed', BUDGET_ON_EXCEED);
    s.int(raw['minOutputTokens'], 'minOutputTokens', 1, 1_000_000);
    s.bool(raw['dryRun'], 'dryRun');
    s.array(raw['costs'], 'costs').forEach((c, ci) => {
      const cf = `costs[${ci}]`;
      if (!isObj(c)) {
        s.add(cf, 'invalid', 'must be an object');
        return;
      }
      const m = c['model'];
      if (typeof m !== 'string' || m === '') s.add(`${cf}.model`, 'required', 'is required (a model pattern)');
      else if (!MODEL_PATTERN.test(m)) s.add(`${cf}.model`, 'invalid', `'${m}' must be printable ASCII without spaces (max 256)`);
      for (const k of Object.keys(c)) {
        if (k !== 'model' && k !== 'input' && k !== 'cachedInput' && k !== 'output') s.add(`${cf}.${k}`, 'invalid', 'unknown field (allowed: model, input, cachedInput, output)');
      }
      weight(s, c['input'], `${cf}.input`);
      weight(s, c['cachedInput'], `${cf}.cachedInput`);
      weight(s, c['output'], `${cf}.output`);
    });
  });
  duplicates((n) => issues.at('budget', n), budgets.map((x) => (isObj(x) && typeof x['name'] === 'string' ? x['name'] : undefined)), 'budget');
  accessLists.forEach((raw, idx) => {
    const s = issues.at('modelAccessList', nameOf(raw, `#${idx}`));
    if (!isObj(raw)) {
      s.add('', 'invalid', 'must be an object');
      return;
    }
    s.nameField(raw['name'], 'name');
    principalList(s, raw['principals'], 'principals');
    if (raw['models'] === undefined) s.add('models', 'required', 'is required (may be empty: no model)');
    else modelPatterns(s, raw['models'], 'models');
  });
  duplicates((n) => issues.at('modelAccessList', n), accessLists.map((x) => (isObj(x) && typeof x['name'] === 'string' ? x['name'] : undefined)), 'model access list');
  if (!scopes.has('global')) {
    const why = 'is delivered in the global DLP policy (the filter runs there); create a DLP policy with scope global';
    budgets.forEach((raw, idx) => issues.at('budget', nameOf(raw, `#${idx}`)).add('', 'conflict', `budget ${why}`));
    accessLists.forEach((raw, idx) => issues.at('modelAccessList', nameOf(raw, `#${idx}`)).add('', 'conflict', `model access list ${why}`));
  }

  return issues.list;
}
