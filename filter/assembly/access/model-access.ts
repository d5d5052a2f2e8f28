/**
 * Model access lists: which caller identities may call which models, decided on the request
 * body's `model` field (the one the provider acts on), not on a header or path a client chooses.
 *
 * Semantics: an identity matched by at least one list may use the union of those lists' models
 * (patterns with `*`); an identity matched by none is unrestricted. A list for `*` therefore sets
 * the default for every identified caller. An anonymous caller (no identity) is matched only by
 * lists whose principals include "" … which cannot be configured: anonymous callers are governed
 * by the mesh's authorization policies, not by access lists.
 */
import { AccessConfig, globMatch, principalMatch } from "../budget/budget-config";

/** Result of {@link checkModelAccess}. */
export const ACCESS_UNRESTRICTED: i32 = 0;
export const ACCESS_ALLOWED: i32 = 1;
export const ACCESS_DENIED: i32 = 2;

export function checkModelAccess(cfg: AccessConfig, identity: string, model: string): i32 {
  let covered = false;
  for (let i = 0; i < cfg.lists.length; i++) {
    const l = cfg.lists[i];
    let matched = false;
    for (let j = 0; j < l.principals.length; j++) {
      if (principalMatch(l.principals[j], identity)) {
        matched = true;
        break;
      }
    }
    if (!matched) continue;
    covered = true;
    for (let j = 0; j < l.models.length; j++) {
      if (globMatch(l.models[j], model)) return ACCESS_ALLOWED;
    }
  }
  return covered ? ACCESS_DENIED : ACCESS_UNRESTRICTED;
}

/** True when the identity is matched by some list (its model list must then be filtered). */
export function accessRestricted(cfg: AccessConfig, identity: string): bool {
  for (let i = 0; i < cfg.lists.length; i++) {
    const l = cfg.lists[i];
    for (let j = 0; j < l.principals.length; j++) {
      if (principalMatch(l.principals[j], identity)) return true;
    }
  }
  return false;
}
