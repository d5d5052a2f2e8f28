/**
 * The VM configuration (Envoy `vm_config.configuration`, shared by every plugin in the VM):
 * optional JSON object `{"hash_key": "<at least 16 bytes>"}`. The hash key keys the `hash`
 * redaction style when the plugin config does not set `redaction.hash_key`, so one secret can be
 * delivered to the VM (e.g. from a Secret) and kept out of the plugin config. Empty = no key.
 */
import { JsonKind, parseJson } from "./json-value";

export class VmConfig {
  hashKey: string = "";
  error: string = "";
}

export function parseVmConfig(bytes: Uint8Array): VmConfig {
  const out = new VmConfig();
  let blank = true;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) {
      blank = false;
      break;
    }
  }
  if (blank) return out;
  const r = parseJson(bytes);
  if (r.value == null) {
    out.error = r.errorPath + ": invalid JSON: " + r.errorReason;
    return out;
  }
  const v = r.value!;
  if (v.kind != JsonKind.Object) {
    out.error = "$: the VM configuration must be a JSON object, got " + v.kindName();
    return out;
  }
  for (let i = 0; i < v.keys.length; i++) {
    const k = v.keys[i];
    if (k != "hash_key") {
      out.error = "$." + k + ": unknown field (allowed: hash_key)";
      return out;
    }
    const x = v.values[i];
    if (x.kind != JsonKind.String) {
      out.error = "$.hash_key: must be a string, got " + x.kindName();
      return out;
    }
    if (String.UTF8.byteLength(x.str) < 16) {
      out.error = "$.hash_key: must be at least 16 bytes";
      return out;
    }
    out.hashKey = x.str;
  }
  return out;
}
