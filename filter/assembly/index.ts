// Wiring only: registers the meshward root context and re-exports the Proxy-Wasm ABI v0.2.1 entry
// points from the ABI layer. Behaviour lives in context/ (meshward-root.ts, meshward-http.ts).
import { RootContext, registerRootContext } from "./context/base";
import { MeshwardRoot } from "./context/meshward-root";

export {
  proxy_abi_version_0_2_1,
  proxy_on_memory_allocate,
  proxy_on_context_create,
  proxy_on_vm_start,
  proxy_on_configure,
  proxy_on_tick,
  proxy_on_queue_ready,
  proxy_on_http_call_response,
  proxy_on_foreign_function,
  proxy_on_request_headers,
  proxy_on_request_body,
  proxy_on_request_trailers,
  proxy_on_response_headers,
  proxy_on_response_body,
  proxy_on_response_trailers,
  proxy_on_done,
  proxy_on_log,
  proxy_on_delete,
} from "./abi/exports";

registerRootContext((contextId: u32): RootContext => new MeshwardRoot(contextId), "");
