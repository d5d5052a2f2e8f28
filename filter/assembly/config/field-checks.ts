// Shared building blocks of the configuration parsers (plugin-config and the budget / model
// access sections): the first-error collector and the object / known-field checks. Pure.
import { JsonKind, JsonValue } from "./json-value";

/**
 * Collects the first error (path + reason); later failures are ignored so the reported error is
 * the one that stopped the parse. `fail` always returns false so callers can `return err.fail(...)`.
 */
export class SectionError {
  path: string = "";
  reason: string = "";

  fail(path: string, reason: string): bool {
    if (this.reason.length == 0) {
      this.path = path;
      this.reason = reason;
    }
    return false;
  }

  get failed(): bool {
    return this.reason.length > 0;
  }
}

/** True when `x` is an object; otherwise records "must be an object, got <kind>" at `path`. */
export function checkObject(x: JsonValue, path: string, err: SectionError): bool {
  if (x.kind != JsonKind.Object) return err.fail(path, "must be an object, got " + x.kindName());
  return true;
}

/** True when every key of object `x` is in `allowed`; otherwise records the first unknown field. */
export function checkKeys(x: JsonValue, path: string, allowed: StaticArray<string>, err: SectionError): bool {
  for (let i = 0; i < x.keys.length; i++) {
    const k = x.keys[i];
    let found = false;
    for (let j = 0; j < allowed.length; j++) {
      if (allowed[j] == k) {
        found = true;
        break;
      }
    }
    if (!found) return err.fail(path + "." + k, "unknown field (allowed: " + allowed.join(", ") + ")");
  }
  return true;
}
