import { create } from '@bufbuild/protobuf';
import type { JsonObject } from '@bufbuild/protobuf';
import { NodeSchema, type Node } from '../../../control-plane/src/gen/envoy/config/core/v3/base_pb.js';

/** An Envoy node with the given metadata (as Envoy sends it on the first request). */
export function createNodeFromMetadata(metadata: JsonObject, id = 'node-1'): Node {
  return create(NodeSchema, { id, metadata });
}
