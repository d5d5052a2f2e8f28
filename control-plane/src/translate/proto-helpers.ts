/**
 * Small typed builders shared by the translators. Everything goes through `create()` with a typed
 * init object, so a misplaced key (e.g. `vmConfig` outside its `vm` oneof) is a compile error rather
 * than a silently dropped field.
 */
import { create, type DescMessage, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { anyPack, durationFromMs, type Any, type Duration } from '@bufbuild/protobuf/wkt';
import { ApiVersion, ConfigSourceSchema, type ConfigSource } from '../gen/envoy/config/core/v3/config_source_pb.js';

/** `create()` then pack into an Any (typeUrl `type.googleapis.com/<full name>`). */
export function packAny<Desc extends DescMessage>(schema: Desc, init: MessageInitShape<Desc>): Any {
  return anyPack(schema, create(schema, init) as MessageShape<Desc>);
}

/** A Duration from whole milliseconds. */
export function ms(n: number): Duration {
  return durationFromMs(n);
}

/** Config source "over the ADS stream this node already has", API v3. */
export function adsConfigSource(): ConfigSource {
  return create(ConfigSourceSchema, {
    configSourceSpecifier: { case: 'ads', value: {} },
    resourceApiVersion: ApiVersion.V3,
  });
}

/** The `type.googleapis.com/...` URL of a message type. */
export function typeUrlOf(schema: DescMessage): string {
  return `type.googleapis.com/${schema.typeName}`;
}
