/**
 * Checks a message against the protoc-gen-validate rules its .proto declares (the `validate.rules`
 * field options Envoy's API carries), the way Envoy validates a resource before accepting it. Pure
 * and total; returns every violation as `<field path>: <reason>`. Packed Any values are unpacked
 * through the registry and checked too (an Any whose type is not in the registry is a violation).
 *
 * Covered: required messages/oneofs, string length/prefix/pattern/well-known (header names and
 * values, hostnames, IPs), numeric bounds and sets (incl. unboxed wrapper fields), enum
 * defined_only/in/not_in, repeated/map sizes and item rules, Duration bounds, Any required/in.
 * Not covered: Timestamp rules, bytes rules, `unique`, and Envoy's checks that are not PGV rules
 * (those only show up in a real Envoy).
 */
import { getOption, hasOption, isFieldSet, type DescEnum, type DescField, type DescMessage, type Message, type Registry } from '@bufbuild/protobuf';
import { anyUnpack, type Any, type Duration } from '@bufbuild/protobuf/wkt';
import { isIP } from 'node:net';
import { disabled as pgvDisabled, file_validate_validate, required as pgvRequired, rules as pgvRules, type FieldRules } from '../gen/validate/validate_pb.js';

const WRAPPERS = new Set([
  'google.protobuf.DoubleValue',
  'google.protobuf.FloatValue',
  'google.protobuf.Int64Value',
  'google.protobuf.UInt64Value',
  'google.protobuf.Int32Value',
  'google.protobuf.UInt32Value',
  'google.protobuf.BoolValue',
  'google.protobuf.StringValue',
  'google.protobuf.BytesValue',
]);
const UNBOXED_JSON = new Set(['google.protobuf.Struct', 'google.protobuf.Value', 'google.protobuf.ListValue']);
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/;
const HEADER_NAME_STRICT = /^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$/;
const HEADER_VALUE_STRICT = /^[^\u0000-\u0008\u000A-\u001F\u007F]*$/;
const HEADER_LOOSE = /^[^\u0000\u000A\u000D]*$/;
const MAX_DEPTH = 64;

type Obj = Record<string, unknown>;
type Rules = Message & Obj;

const RULE_DESCS = new Map<string, DescMessage>(file_validate_validate.messages.map((m) => [m.typeName, m]));

/** True when a proto2 optional rule field (by its local name) is set. */
function ruleSet(rules: Message, localName: string): boolean {
  const f = RULE_DESCS.get(rules.$typeName)?.fields.find((x) => x.localName === localName);
  return f !== undefined && isFieldSet(rules as never, f);
}

function toNumber(v: unknown): number {
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

function durationNs(d: Duration | undefined): bigint {
  return d === undefined ? 0n : d.seconds * 1_000_000_000n + BigInt(d.nanos);
}

export function validateProtoRules<D extends DescMessage>(schema: D, message: Message, registry: Registry): string[] {
  const errors: string[] = [];
  walkMessage(schema, message as unknown as Obj, '', registry, errors, 0);
  return errors;
}

function walkMessage(desc: DescMessage, msg: Obj, path: string, registry: Registry, errors: string[], depth: number): void {
  if (depth > MAX_DEPTH) return;
  if (hasOption(desc, pgvDisabled) && getOption(desc, pgvDisabled)) return;
  for (const oneof of desc.oneofs) {
    if (hasOption(oneof, pgvRequired) && getOption(oneof, pgvRequired)) {
      const v = msg[oneof.localName] as { case: string | undefined } | undefined;
      if (!v || v.case === undefined) errors.push(`${path}${oneof.name}: one of ${oneof.fields.map((f) => f.name).join(', ')} is required`);
    }
  }
  for (const field of desc.fields) {
    let value: unknown;
    let set: boolean;
    if (field.oneof) {
      const o = msg[field.oneof.localName] as { case: string | undefined; value?: unknown } | undefined;
      set = o?.case === field.localName;
      value = set ? o!.value : undefined;
    } else {
      value = msg[field.localName];
      set = isFieldSet(msg as never, field);
    }
    const rules = hasOption(field, pgvRules) ? getOption(field, pgvRules) : undefined;
    checkField(field, value, set, rules, `${path}${field.name}`, registry, errors, depth);
  }
}

function checkField(field: DescField, value: unknown, set: boolean, rules: FieldRules | undefined, path: string, registry: Registry, errors: string[], depth: number): void {
  if (field.oneof && !set) return; // rules of an unset oneof member do not apply (PGV: oneof.required does)
  switch (field.fieldKind) {
    case 'list': {
      const list = value as unknown[];
      const r = rules?.type.case === 'repeated' ? rules.type.value : undefined;
      if (r) {
        if (ruleSet(r, 'minItems') && list.length < Number(r.minItems)) errors.push(`${path}: needs at least ${r.minItems} item(s), has ${list.length}`);
        if (ruleSet(r, 'maxItems') && list.length > Number(r.maxItems)) errors.push(`${path}: at most ${r.maxItems} item(s), has ${list.length}`);
      }
      list.forEach((item, i) => {
        const ip = `${path}[${i}]`;
        if (field.listKind === 'message') {
          if (field.message.typeName === 'google.protobuf.Any') checkAny(item as Any, r?.items, ip, registry, errors, depth);
          else walkMessage(field.message, item as Obj, `${ip}.`, registry, errors, depth + 1);
        } else if (r?.items) checkScalar(item, r.items, ip, field.listKind === 'enum' ? field.enum : undefined, errors);
      });
      return;
    }
    case 'map': {
      const map = value as Record<string, unknown>;
      const r = rules?.type.case === 'map' ? rules.type.value : undefined;
      const n = Object.keys(map).length;
      if (r) {
        if (ruleSet(r, 'minPairs') && n < Number(r.minPairs)) errors.push(`${path}: needs at least ${r.minPairs} entr(ies), has ${n}`);
        if (r.keys) for (const k of Object.keys(map)) checkScalar(k, r.keys, `${path}[${k}] (key)`, undefined, errors);
      }
      for (const [k, v] of Object.entries(map)) {
        const ip = `${path}[${k}]`;
        if (field.mapKind === 'message') {
          if (field.message.typeName === 'google.protobuf.Any') checkAny(v as Any, r?.values, ip, registry, errors, depth);
          else walkMessage(field.message, v as Obj, `${ip}.`, registry, errors, depth + 1);
        } else if (r?.values) checkScalar(v, r.values, ip, field.mapKind === 'enum' ? field.enum : undefined, errors);
      }
      return;
    }
    case 'message': {
      const name = field.message.typeName;
      if (rules?.message?.required && !set) {
        errors.push(`${path}: is required`);
        return;
      }
      if (UNBOXED_JSON.has(name)) return; // protobuf-es holds these as plain JSON; PGV has no rules inside
      if (WRAPPERS.has(name)) {
        if (set && rules && rules.type.case !== undefined) checkScalar(value, rules, path, undefined, errors);
        return;
      }
      if (name === 'google.protobuf.Duration') {
        const r = rules?.type.case === 'duration' ? rules.type.value : undefined;
        if (!r) return;
        if (r.required && !set) {
          errors.push(`${path}: is required`);
          return;
        }
        if (!set) return;
        const ns = durationNs(value as Duration);
        if (r.gt !== undefined && !(ns > durationNs(r.gt))) errors.push(`${path}: must be > ${durationNs(r.gt)}ns`);
        if (r.gte !== undefined && !(ns >= durationNs(r.gte))) errors.push(`${path}: must be >= ${durationNs(r.gte)}ns`);
        if (r.lt !== undefined && !(ns < durationNs(r.lt))) errors.push(`${path}: must be < ${durationNs(r.lt)}ns`);
        if (r.lte !== undefined && !(ns <= durationNs(r.lte))) errors.push(`${path}: must be <= ${durationNs(r.lte)}ns`);
        return;
      }
      if (name === 'google.protobuf.Any') {
        if (rules?.type.case === 'any' && rules.type.value.required && !set) {
          errors.push(`${path}: is required`);
          return;
        }
        if (set) checkAny(value as Any, rules, path, registry, errors, depth);
        return;
      }
      if (set && value !== undefined && !rules?.message?.skip) walkMessage(field.message, value as Obj, `${path}.`, registry, errors, depth + 1);
      return;
    }
    case 'enum':
    case 'scalar':
      if (rules && rules.type.case !== undefined) {
        checkScalar(value, rules, path, field.fieldKind === 'enum' ? field.enum : undefined, errors);
      }
      return;
  }
}

function checkAny(any: Any, rules: FieldRules | undefined, path: string, registry: Registry, errors: string[], depth: number): void {
  if (rules?.type.case === 'any') {
    const r = rules.type.value;
    const t = any.typeUrl;
    if (r.in.length > 0 && !r.in.includes(t)) errors.push(`${path}: type ${t} is not one of ${r.in.join(', ')}`);
    if (r.notIn.includes(t)) errors.push(`${path}: type ${t} is not allowed`);
  }
  if (any.typeUrl === '') return; // an empty Any (e.g. FilterConfig's "enable" form)
  const typeName = any.typeUrl.slice(any.typeUrl.lastIndexOf('/') + 1);
  const desc = registry.getMessage(typeName);
  if (!desc) {
    errors.push(`${path}: type ${any.typeUrl} is unknown`);
    return;
  }
  let inner: Message | undefined;
  try {
    inner = anyUnpack(any, registry);
  } catch (e) {
    errors.push(`${path}: cannot decode ${any.typeUrl}: ${(e as Error).message}`);
    return;
  }
  if (inner) walkMessage(desc, inner as unknown as Obj, `${path}(${typeName}).`, registry, errors, depth + 1);
}

function checkScalar(value: unknown, rules: FieldRules, path: string, enumDesc: DescEnum | undefined, errors: string[]): void {
  const t = rules.type;
  if (t.case === undefined) return;
  const r = t.value as unknown as Rules;
  if (t.case === 'string') {
    const s = (value ?? '') as string;
    const sr = t.value;
    if (sr.ignoreEmpty && s === '') return;
    const chars = [...s].length;
    const bytes = Buffer.byteLength(s);
    if (ruleSet(r, 'minLen') && chars < Number(sr.minLen)) errors.push(`${path}: must be at least ${sr.minLen} character(s)`);
    if (ruleSet(r, 'maxLen') && chars > Number(sr.maxLen)) errors.push(`${path}: must be at most ${sr.maxLen} characters`);
    if (ruleSet(r, 'minBytes') && bytes < Number(sr.minBytes)) errors.push(`${path}: must be at least ${sr.minBytes} byte(s)`);
    if (ruleSet(r, 'maxBytes') && bytes > Number(sr.maxBytes)) errors.push(`${path}: must be at most ${sr.maxBytes} bytes`);
    if (ruleSet(r, 'prefix') && !s.startsWith(sr.prefix)) errors.push(`${path}: must start with '${sr.prefix}'`);
    if (ruleSet(r, 'pattern')) {
      try {
        if (!new RegExp(sr.pattern).test(s)) errors.push(`${path}: '${s}' does not match ${sr.pattern}`);
      } catch {
        /* an RE2-only pattern: not checkable here */
      }
    }
    if (sr.in.length > 0 && !sr.in.includes(s)) errors.push(`${path}: must be one of ${sr.in.join(', ')}`);
    if (sr.notIn.includes(s)) errors.push(`${path}: '${s}' is not allowed`);
    const wk = sr.wellKnown;
    if (wk.case === 'wellKnownRegex' && s !== '') {
      const strict = !ruleSet(r, 'strict') || sr.strict;
      const re = wk.value === 1 ? (strict ? HEADER_NAME_STRICT : HEADER_LOOSE) : wk.value === 2 ? (strict ? HEADER_VALUE_STRICT : HEADER_LOOSE) : undefined;
      if (re && !re.test(s)) errors.push(`${path}: '${s}' is not a valid HTTP header ${wk.value === 1 ? 'name' : 'value'}`);
    } else if ((wk.case === 'hostname' && wk.value) && !HOSTNAME.test(s)) errors.push(`${path}: '${s}' is not a hostname`);
    else if ((wk.case === 'ip' && wk.value) && isIP(s) === 0) errors.push(`${path}: '${s}' is not an IP address`);
    else if ((wk.case === 'address' && wk.value) && isIP(s) === 0 && !HOSTNAME.test(s)) errors.push(`${path}: '${s}' is not an address`);
    return;
  }
  if (t.case === 'enum') {
    const v = value as number;
    const er = t.value;
    if (er.definedOnly && enumDesc && !enumDesc.values.some((x) => x.number === v)) errors.push(`${path}: ${v} is not a defined ${enumDesc.typeName} value`);
    if (er.in.length > 0 && !er.in.includes(v)) errors.push(`${path}: must be one of ${er.in.join(', ')}`);
    if (er.notIn.includes(v)) errors.push(`${path}: ${v} is not allowed`);
    if (ruleSet(r, 'const') && v !== er.const) errors.push(`${path}: must be ${er.const}`);
    return;
  }
  if (t.case === 'bool') {
    const br = t.value;
    if (ruleSet(r, 'const') && value !== br.const) errors.push(`${path}: must be ${String(br.const)}`);
    return;
  }
  if (t.case === 'bytes' || t.case === 'timestamp' || t.case === 'duration' || t.case === 'any' || t.case === 'repeated' || t.case === 'map') return;
  // Numeric rules (all shapes share field names).
  const n = toNumber(value ?? 0);
  const get = (k: string) => toNumber((r as Obj)[k]);
  if (ruleSet(r, 'const') && n !== get('const')) errors.push(`${path}: must be ${get('const')}`);
  const hasGt = ruleSet(r, 'gt');
  const hasGte = ruleSet(r, 'gte');
  const hasLt = ruleSet(r, 'lt');
  const hasLte = ruleSet(r, 'lte');
  const lower = hasGt ? n > get('gt') : hasGte ? n >= get('gte') : true;
  const upper = hasLt ? n < get('lt') : hasLte ? n <= get('lte') : true;
  const exclusiveRange = (hasGt || hasGte) && (hasLt || hasLte) && (hasGt ? get('gt') : get('gte')) > (hasLt ? get('lt') : get('lte'));
  const ok = exclusiveRange ? lower || upper : lower && upper;
  if (!ok) {
    const bounds = [hasGt ? `> ${get('gt')}` : hasGte ? `>= ${get('gte')}` : '', hasLt ? `< ${get('lt')}` : hasLte ? `<= ${get('lte')}` : ''].filter(Boolean).join(' and ');
    errors.push(`${path}: ${n} must be ${bounds}`);
  }
  const ins = ((r as Obj)['in'] as unknown[] | undefined) ?? [];
  if (ins.length > 0 && !ins.map(toNumber).includes(n)) errors.push(`${path}: must be one of ${ins.join(', ')}`);
  const notIns = ((r as Obj)['notIn'] as unknown[] | undefined) ?? [];
  if (notIns.map(toNumber).includes(n)) errors.push(`${path}: ${n} is not allowed`);
}
