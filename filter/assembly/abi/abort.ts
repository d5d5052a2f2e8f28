// Replacement for AssemblyScript's `abort` (wired with `--use abort=assembly/abi/abort/meshwardAbort`):
// Envoy provides no env.abort import, so a module that imports it fails to link. We log the failure
// through proxy_log at critical level, then trap; Envoy marks the VM failed and applies the plugin's
// fail_open setting to the stream.
import { proxy_log } from "./imports";

let aborting = false;

export function meshwardAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  if (!aborting) {
    // A second abort while reporting the first (e.g. out of memory) traps without logging.
    aborting = true;
    let text = "meshward: abort";
    if (message !== null) text += ": " + message;
    if (fileName !== null) text += " at " + fileName + ":" + line.toString() + ":" + column.toString();
    const bytes = String.UTF8.encode(text);
    proxy_log(5, changetype<usize>(bytes), <usize>bytes.byteLength);
  }
  unreachable();
}
