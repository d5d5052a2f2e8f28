/**
 * The policy in force for one caller: the config's actions and mode, with the first principal rule
 * whose `match` glob matches the caller's SPIFFE ID applied on top. Rules are tried in config
 * order; the first match wins (like RBAC policies and firewall rules, so an operator can read the
 * list top-down). `*` in a glob matches any run of characters, `/` included; everything else is
 * literal. A caller without a peer certificate has the principal "" (only `*` matches it).
 */
import { Action, Mode } from "../config/enums";
import { PluginConfig } from "../config/plugin-config";

export class EffectivePolicy {
  mode: Mode = Mode.Enforce;
  actions: StaticArray<u8> = new StaticArray<u8>(0);
  /** Index of the principal rule applied, or -1. */
  rule: i32 = -1;

  /** Action of detector `index` for a direction bit (0 when it does not apply to that direction). */
  @inline actionFor(cfg: PluginConfig, index: i32, direction: i32): Action {
    if ((<i32>unchecked(cfg.directions[index]) & direction) == 0) return Action.Off;
    return <Action>unchecked(this.actions[index]);
  }

  /** True when any detector may redact in `direction` under enforce mode. */
  mayRedact(cfg: PluginConfig, direction: i32): bool {
    if (this.mode != Mode.Enforce) return false;
    for (let i = 0; i < this.actions.length; i++) {
      if (this.actionFor(cfg, i, direction) == Action.Redact) return true;
    }
    return false;
  }

  /** True when any detector may block in `direction` under enforce mode. */
  mayBlock(cfg: PluginConfig, direction: i32): bool {
    if (this.mode != Mode.Enforce) return false;
    for (let i = 0; i < this.actions.length; i++) {
      if (this.actionFor(cfg, i, direction) == Action.Block) return true;
    }
    return false;
  }

  /** True when some content detector is on for `direction`. */
  inspects(cfg: PluginConfig, direction: i32): bool {
    for (let i = 0; i < this.actions.length; i++) {
      if (this.actionFor(cfg, i, direction) != Action.Off) return true;
    }
    return false;
  }
}

/**
 * The policies a configuration can produce, built once per configuration: the global one and
 * one per principal rule. Resolving a caller is then a glob walk, no allocation.
 */
export class PolicySet {
  readonly global: EffectivePolicy;
  readonly perRule: Array<EffectivePolicy> = [];

  constructor(public cfg: PluginConfig) {
    this.global = buildPolicy(cfg, -1);
    for (let r = 0; r < cfg.principals.length; r++) this.perRule.push(buildPolicy(cfg, r));
  }

  /** The policy for `principal` (first matching rule wins). Shared object: do not mutate. */
  resolve(principal: string): EffectivePolicy {
    const rules = this.cfg.principals;
    for (let r = 0; r < rules.length; r++) {
      if (globMatch(unchecked(rules[r]).match, principal)) return unchecked(this.perRule[r]);
    }
    return this.global;
  }
}

/** The policy of rule `r` applied over the config (-1: no rule). */
export function buildPolicy(cfg: PluginConfig, r: i32): EffectivePolicy {
  const p = new EffectivePolicy();
  p.mode = cfg.mode;
  const n = cfg.actions.length;
  p.actions = new StaticArray<u8>(n);
  for (let i = 0; i < n; i++) unchecked(p.actions[i] = cfg.actions[i]);
  p.rule = r;
  if (r < 0) return p;
  const rule = cfg.principals[r];
  if (rule.mode >= 0) p.mode = <Mode>rule.mode;
  for (let i = 0; i < n; i++) {
    const a = unchecked(rule.actions[i]);
    if (a >= 0) unchecked(p.actions[i] = <u8>a);
  }
  return p;
}

/** Resolves the policy for `principal` (allocates; prefer PolicySet.resolve on hot paths). */
export function resolvePolicy(cfg: PluginConfig, principal: string): EffectivePolicy {
  const p = new EffectivePolicy();
  p.mode = cfg.mode;
  const n = cfg.actions.length;
  p.actions = new StaticArray<u8>(n);
  memory.copy(changetype<usize>(p.actions), changetype<usize>(cfg.actions), <usize>n);
  for (let r = 0; r < cfg.principals.length; r++) {
    const rule = cfg.principals[r];
    if (!globMatch(rule.match, principal)) continue;
    p.rule = r;
    if (rule.mode >= 0) p.mode = <Mode>rule.mode;
    for (let i = 0; i < n; i++) {
      const a = unchecked(rule.actions[i]);
      if (a >= 0) unchecked(p.actions[i] = <u8>a);
    }
    break;
  }
  return p;
}

/** Glob match where `*` matches any run of characters (incl. `/`). Linear-time, no recursion. */
export function globMatch(pattern: string, s: string): bool {
  let p = 0;
  let i = 0;
  let starP = -1;
  let starI = 0;
  const pn = pattern.length;
  const sn = s.length;
  while (i < sn) {
    if (p < pn && pattern.charCodeAt(p) == 0x2a) {
      starP = p++;
      starI = i;
    } else if (p < pn && pattern.charCodeAt(p) == s.charCodeAt(i)) {
      p++;
      i++;
    } else if (starP >= 0) {
      p = starP + 1;
      i = ++starI;
    } else {
      return false;
    }
  }
  while (p < pn && pattern.charCodeAt(p) == 0x2a) p++;
  return p == pn;
}
