// Shared key-value store, visible to every worker VM of the same vm_id (Envoy worker threads).
// Optimistic concurrency: getSharedData returns the value with its CAS token; setSharedData with
// a non-zero CAS fails with CasMismatch when another writer got there first (re-read and retry).
// CAS 0 writes unconditionally; a missing key is created whatever the CAS.
import * as calls from "../abi/calls";
import { WasmResult } from "../abi/types";

/** A value read from shared data with its compare-and-swap token. */
export class SharedData {
  constructor(public value: ArrayBuffer, public cas: u32) {}
}

/** The value under `key`, or null when absent. */
export function getSharedData(key: string): SharedData | null {
  const value = calls.getSharedData(String.UTF8.encode(key));
  if (value === null) return null;
  return new SharedData(value, calls.lastU32());
}

/** Writes `value` under `key` if `cas` matches (0 = unconditional); CasMismatch otherwise. */
export function setSharedData(key: string, value: Uint8Array, cas: u32 = 0): WasmResult {
  return calls.setSharedData(String.UTF8.encode(key), value, cas);
}

// Shared queues ----------------------------------------------------------------------------------

/** Registers (or opens) a queue owned by this plugin's root context; 0 when refused. */
export function registerSharedQueue(name: string): u32 {
  return calls.registerSharedQueue(String.UTF8.encode(name));
}

/** Finds a queue registered by the VM `vmId` ("" = this VM's id); 0 when not found. */
export function resolveSharedQueue(vmId: string, name: string): u32 {
  return calls.resolveSharedQueue(String.UTF8.encode(vmId), String.UTF8.encode(name));
}

export function enqueueSharedQueue(queueId: u32, value: Uint8Array): WasmResult {
  return calls.enqueueSharedQueue(queueId, value);
}

/** Next item, or null (queueStatus() is Empty when there is none). */
export function dequeueSharedQueue(queueId: u32): ArrayBuffer | null {
  return calls.dequeueSharedQueue(queueId);
}

/** Status of the last shared-data or queue call. */
export function sharedStatus(): WasmResult {
  return calls.lastStatus();
}
