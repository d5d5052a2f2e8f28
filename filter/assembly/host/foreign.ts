// Host-registered foreign functions (proxy_call_foreign_function).
import * as calls from "../abi/calls";
import { WasmResult } from "../abi/types";

/** Calls the host function `name`; returns its result bytes, or null (NotFound when unknown). */
export function callForeignFunction(name: string, args: Uint8Array): ArrayBuffer | null {
  return calls.callForeignFunction(String.UTF8.encode(name), args);
}

export function foreignStatus(): WasmResult {
  return calls.lastStatus();
}
