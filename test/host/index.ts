/**
 * The proxy-wasm host emulator the tests drive. Its implementation is a runtime module of the
 * control plane (control-plane/src/wasm-host/) because the REST API's DLP dry-run and the
 * `meshward scan` command run the real compiled filter through the very same host; the API
 * contract is documented at the top of control-plane/src/wasm-host/index.ts.
 */
export * from '../../control-plane/src/wasm-host/index.js';
