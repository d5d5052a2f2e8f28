// The raw Proxy-Wasm ABI v0.2.1 binding: enums, serialization, host calls (abi/calls.ts), exported
// callbacks (abi/exports.ts). Only host/ and context/base.ts import from abi/.
export * from "./types";
export * from "./pairs";
