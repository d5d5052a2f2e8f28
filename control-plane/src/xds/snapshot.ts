import { createHash } from 'node:crypto';
import { toBinary, type Message } from '@bufbuild/protobuf';
import type { Listener } from '../gen/envoy/config/listener/v3/listener_pb.js';
import type { RouteConfiguration } from '../gen/envoy/config/route/v3/route_pb.js';
import type { Cluster } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import type { ClusterLoadAssignment } from '../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { TypedExtensionConfig } from '../gen/envoy/config/core/v3/extension_pb.js';
import { XdsError } from './errors.js';
import {
  ALL_TYPE_URLS,
  SHORT_NAME,
  TypeUrl,
  isTypeUrl,
  resourceNameOf,
  schemaOf,
  typeUrlOfMessage,
} from './type-urls.js';
import { encodeAny, encodeDeltaResource, lengthDelimited, stringField } from './wire.js';
import { DEFAULT_PER_IDENTITY_SECRET_NAMES, findConsistencyIssues, type ConsistencyIssue, type ConsistencyOptions } from './consistency.js';
import { internNames, type SubscribedNames } from './subscribed-names.js';

/** A SotW response for one subscription, shared by every stream with that subscription. */
export interface SotwBody {
  /** version_info + resources + type_url, without nonce. */
  readonly body: Buffer;
  /**
   * The complete DiscoveryResponse bytes with `nonce`: identical for every stream that receives
   * this content, so a push to 10k streams allocates nothing per stream here. A nonce only has to
   * be unique within one stream's type; it is unique process-wide (see `nextNonce`).
   */
  readonly response: Buffer;
  readonly nonce: string;
  /** Names and versions of the included resources: equal keys mean identical content for the client. */
  readonly contentKey: string;
  /** Number of included resources. */
  readonly count: number;
}

/**
 * One resource, encoded once. The bytes are shared by every stream that receives this version of
 * the resource; nothing here is ever mutated after construction.
 */
export interface EncodedResource {
  readonly typeUrl: TypeUrl;
  readonly name: string;
  /** Content hash of the encoded resource: the per-resource version used by delta xDS. */
  readonly version: string;
  /** The generated message (read-only by contract; never mutate it after publishing). */
  readonly message: Message;
  /** google.protobuf.Any bytes. */
  readonly anyBytes: Buffer;
  /** `resources` field (2) of a DiscoveryResponse holding this Any, ready to concatenate. */
  readonly sotwField: Buffer;
  /** `resources` field (2) of a DeltaDiscoveryResponse holding this Resource; built on first use. */
  deltaField(): Buffer;
}

/** All resources of one typeUrl in a snapshot. */
export interface TypeSnapshot {
  readonly typeUrl: TypeUrl;
  /**
   * SotW `version_info` of this type: the snapshot version in which this type's content last
   * changed (the cache carries the older version forward when a new snapshot leaves the type as it
   * was, so streams are not pushed identical content).
   */
  readonly version: string;
  /** Digest over the (name, version) pairs: equal digests mean identical content. */
  readonly digest: string;
  readonly resources: ReadonlyMap<string, EncodedResource>;
  /**
   * The SotW response for a subscription (undefined = wildcard: every resource). Names not in the
   * snapshot are skipped. Cached per distinct subscription, so streams subscribing the same names
   * share one buffer and one content key.
   */
  sotw(names: SubscribedNames | undefined): SotwBody;
  /** Convenience: DiscoveryResponse bytes without the nonce for a set of names (or all). */
  sotwBody(names: Iterable<string> | undefined): Buffer;
}

/** An immutable, versioned, consistency-checked set of resources for one node group. */
export interface Snapshot {
  readonly version: string;
  readonly createdAt: Date;
  type(typeUrl: TypeUrl): TypeSnapshot;
  /** Number of resources per short type name (LDS, RDS, …), for logs and the fleet view. */
  readonly counts: Readonly<Record<string, number>>;
}

/**
 * The translator's output shape (control-plane/src/translate TranslatedResources), accepted as is.
 * Declared structurally so the xDS layer does not depend on the translator.
 */
export interface TranslatedResourceSet {
  readonly listeners: readonly Listener[];
  readonly routes: readonly RouteConfiguration[];
  readonly clusters: readonly Cluster[];
  readonly endpoints: readonly ClusterLoadAssignment[];
  readonly extensionConfigs: readonly TypedExtensionConfig[];
  /** Per-identity secret names the resources reference (served by the SecretSource, not snapshotted). */
  readonly secretNames?: readonly string[];
}

/**
 * Resources to snapshot: a flat list (typeUrl taken from each message), grouped per typeUrl, or
 * the translator's TranslatedResources.
 */
export type SnapshotResources = readonly Message[] | Partial<Record<TypeUrl, readonly Message[]>> | TranslatedResourceSet;

function isTranslatedSet(r: SnapshotResources): r is TranslatedResourceSet {
  return !Array.isArray(r) && typeof r === 'object' && r !== null && 'listeners' in r && 'clusters' in r;
}

export interface SnapshotInput {
  /** Opaque version string, sent as version_info for the types that changed. Must be non-empty. */
  readonly version: string;
  readonly resources: SnapshotResources;
}

/**
 * A consistency check over a snapshot's resources. Defaults to the control plane's own
 * {@link findConsistencyIssues}; the translator's richer check can be plugged in.
 */
export type ConsistencyCheck = (resources: ReadonlyMap<TypeUrl, readonly Message[]>) => readonly ConsistencyIssue[];

/** One problem as the translator's `checkConsistency` reports it. */
export interface TranslatorConsistencyError {
  readonly type: 'Listener' | 'RouteConfiguration' | 'Cluster' | 'ClusterLoadAssignment' | 'TypedExtensionConfig';
  readonly name: string;
  readonly field: string;
  readonly reason: string;
}

/**
 * Adapts the translator's `checkConsistency(resources: TranslatedResources)` (deeper than the
 * built-in check: weights, per-filter config keys, Wasm fetch clusters…) into a ConsistencyCheck:
 * `createSnapshot(input, { consistencyCheck: fromTranslatorCheck(checkConsistency) })`.
 */
export function fromTranslatorCheck(
  check: (resources: TranslatedResourceSet & { readonly secretNames: readonly string[] }) => readonly TranslatorConsistencyError[],
  /** Secrets served per identity (declared to the check as served). Defaults to `default`, `ROOTCA`. */
  perIdentitySecretNames: readonly string[] = DEFAULT_PER_IDENTITY_SECRET_NAMES,
): ConsistencyCheck {
  return (resources) => {
    // createSnapshot has checked every message's type before the check runs.
    const get = <M extends Message>(t: TypeUrl): readonly M[] => (resources.get(t) ?? []) as readonly M[];
    const errors = check({
      listeners: get<Listener>(TypeUrl.Listener),
      routes: get<RouteConfiguration>(TypeUrl.RouteConfiguration),
      clusters: get<Cluster>(TypeUrl.Cluster),
      endpoints: get<ClusterLoadAssignment>(TypeUrl.ClusterLoadAssignment),
      extensionConfigs: get<TypedExtensionConfig>(TypeUrl.TypedExtensionConfig),
      secretNames: [...new Set([...perIdentitySecretNames, ...get(TypeUrl.Secret).map(resourceNameOf)])].sort(),
    });
    return errors.map((e) => ({
      typeUrl: `type.googleapis.com/${TYPE_PACKAGES[e.type]}` as TypeUrl,
      name: e.name,
      reason: e.field === '' ? e.reason : `${e.field}: ${e.reason}`,
    }));
  };
}

const TYPE_PACKAGES: Readonly<Record<TranslatorConsistencyError['type'], string>> = {
  Listener: 'envoy.config.listener.v3.Listener',
  RouteConfiguration: 'envoy.config.route.v3.RouteConfiguration',
  Cluster: 'envoy.config.cluster.v3.Cluster',
  ClusterLoadAssignment: 'envoy.config.endpoint.v3.ClusterLoadAssignment',
  TypedExtensionConfig: 'envoy.config.core.v3.TypedExtensionConfig',
};

export interface CreateSnapshotOptions extends ConsistencyOptions {
  /** Replaces the default check; pass `false` only in tests that need an inconsistent snapshot. */
  readonly consistencyCheck?: ConsistencyCheck | false;
  /**
   * Secret resources in a group snapshot would be sent to every node of the group, so they are
   * refused unless this is set (for trust bundles or other non-private material). Per-identity
   * secrets come from the server's `SecretSource`. Defaults to false.
   */
  readonly allowSharedSecrets?: boolean;
  /** Maximum distinct name sets cached per type for SotW bodies. Defaults to 256. */
  readonly maxCachedBodies?: number;
}

let nonceCounter = 0;
const noncePrefix = Date.now().toString(36);

/** A process-wide unique nonce (prefixed with the start time, so restarts do not reuse nonces). */
export function nextNonce(): string {
  return `${noncePrefix}.${(++nonceCounter).toString(36)}`;
}

function hash(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('base64url').slice(0, 16);
}

/** Encodes one generated message as a served resource (used by snapshots and per-identity secrets). */
export function encodeResource(typeUrl: TypeUrl, message: Message): EncodedResource {
  const bytes = toBinary(schemaOf(typeUrl), message);
  const anyBytes = encodeAny(typeUrl, bytes);
  const name = resourceNameOf(message);
  const version = hash(anyBytes);
  let delta: Buffer | undefined;
  return {
    typeUrl,
    name,
    version,
    message,
    anyBytes,
    sotwField: lengthDelimited(2, anyBytes),
    deltaField() {
      delta ??= lengthDelimited(2, encodeDeltaResource(name, version, anyBytes));
      return delta;
    },
  };
}

/** Builds a TypeSnapshot from encoded resources. */
export function createTypeSnapshot(
  typeUrl: TypeUrl,
  version: string,
  resources: ReadonlyMap<string, EncodedResource>,
  maxCachedBodies = 256,
): TypeSnapshot {
  const sorted = [...resources.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const digest = hash(sorted.map((r) => `${r.name}\u0000${r.version}`).join('\u0001'));
  const head = stringField(1, version);
  const tail = stringField(4, typeUrl);
  const bodies = new Map<string, SotwBody>();
  let all: SotwBody | undefined;
  const build = (chosen: readonly EncodedResource[]): SotwBody => {
    const body = Buffer.concat([head, ...chosen.map((r) => r.sotwField), tail]);
    const nonce = nextNonce();
    return {
      body,
      nonce,
      response: Buffer.concat([body, stringField(5, nonce)]),
      contentKey: chosen.map((r) => `${r.name}\u0000${r.version}`).join('\u0001'),
      count: chosen.length,
    };
  };
  const ts: TypeSnapshot = {
    typeUrl,
    version,
    digest,
    resources,
    sotw(names) {
      if (names === undefined) return (all ??= build(sorted));
      let b = bodies.get(names.key);
      if (b === undefined) {
        b = build(sorted.filter((r) => names.set.has(r.name)));
        if (bodies.size >= maxCachedBodies) bodies.clear();
        bodies.set(names.key, b);
      }
      return b;
    },
    sotwBody(names) {
      return ts.sotw(names === undefined ? undefined : internNames([...names])).body;
    },
  };
  return ts;
}

function groupResources(input: SnapshotResources): Map<TypeUrl, Message[]> {
  const resources: readonly Message[] | Partial<Record<TypeUrl, readonly Message[]>> = isTranslatedSet(input)
    ? {
        [TypeUrl.Listener]: input.listeners,
        [TypeUrl.RouteConfiguration]: input.routes,
        [TypeUrl.Cluster]: input.clusters,
        [TypeUrl.ClusterLoadAssignment]: input.endpoints,
        [TypeUrl.TypedExtensionConfig]: input.extensionConfigs,
      }
    : input;
  const grouped = new Map<TypeUrl, Message[]>();
  const add = (typeUrl: TypeUrl, m: Message, where: string): void => {
    const actual = typeUrlOfMessage(m);
    if (actual !== typeUrl) {
      throw new XdsError('INVALID_SNAPSHOT', `${where}: message of type ${m.$typeName} is not a ${typeUrl}`, { typeUrl });
    }
    let list = grouped.get(typeUrl);
    if (list === undefined) grouped.set(typeUrl, (list = []));
    list.push(m);
  };
  if (Array.isArray(resources)) {
    (resources as readonly Message[]).forEach((m, i) => {
      const t = typeUrlOfMessage(m);
      if (t === undefined) {
        throw new XdsError('INVALID_SNAPSHOT', `resources[${i}]: type ${m.$typeName} is not served over xDS`);
      }
      add(t, m, `resources[${i}]`);
    });
  } else {
    for (const [key, list] of Object.entries(resources as Record<string, readonly Message[] | undefined>)) {
      if (!isTypeUrl(key)) throw new XdsError('INVALID_SNAPSHOT', `resources: unknown typeUrl "${key}"`);
      (list ?? []).forEach((m, i) => add(key, m, `resources[${SHORT_NAME[key]}][${i}]`));
    }
  }
  return grouped;
}

/**
 * Validates, consistency-checks and encodes a snapshot. Throws an {@link XdsError}
 * (`INVALID_SNAPSHOT` or `INCONSISTENT_SNAPSHOT`) naming the resource and the reason; nothing is
 * published by this function (see `SnapshotCache.setSnapshot`).
 */
export function createSnapshot(input: SnapshotInput, options: CreateSnapshotOptions = {}): Snapshot {
  if (typeof input.version !== 'string' || input.version === '') {
    throw new XdsError('INVALID_SNAPSHOT', 'version: must be a non-empty string');
  }
  const grouped = groupResources(input.resources);
  for (const [typeUrl, list] of grouped) {
    const seen = new Set<string>();
    for (const m of list) {
      const name = resourceNameOf(m);
      if (name === '') {
        throw new XdsError('INVALID_SNAPSHOT', `${SHORT_NAME[typeUrl]} resource has an empty name`, { typeUrl });
      }
      if (seen.has(name)) {
        throw new XdsError('INVALID_SNAPSHOT', `${SHORT_NAME[typeUrl]} "${name}": duplicate resource name`, {
          typeUrl,
          resourceName: name,
        });
      }
      seen.add(name);
    }
  }
  if ((grouped.get(TypeUrl.Secret)?.length ?? 0) > 0 && options.allowSharedSecrets !== true) {
    const first = resourceNameOf(grouped.get(TypeUrl.Secret)![0]!);
    throw new XdsError(
      'INVALID_SNAPSHOT',
      `SDS "${first}": secrets are served per identity (SecretSource), not from a group snapshot`,
      { typeUrl: TypeUrl.Secret, resourceName: first },
    );
  }
  const check = options.consistencyCheck ?? ((r) => findConsistencyIssues(r, options));
  if (check !== false) {
    const issues = check(grouped);
    if (issues.length > 0) {
      const first = issues[0]!;
      const more = issues.length > 1 ? ` (and ${issues.length - 1} more: ${issues.slice(1, 4).map((i) => `${SHORT_NAME[i.typeUrl]} "${i.name}"`).join(', ')})` : '';
      throw new XdsError('INCONSISTENT_SNAPSHOT', `${SHORT_NAME[first.typeUrl]} "${first.name}": ${first.reason}${more}`, {
        typeUrl: first.typeUrl,
        resourceName: first.name,
      });
    }
  }
  const types = new Map<TypeUrl, TypeSnapshot>();
  const counts: Record<string, number> = {};
  for (const typeUrl of ALL_TYPE_URLS) {
    const encoded = new Map<string, EncodedResource>();
    for (const m of grouped.get(typeUrl) ?? []) {
      let r: EncodedResource;
      try {
        r = encodeResource(typeUrl, m);
      } catch (err) {
        throw new XdsError('INVALID_SNAPSHOT', `${SHORT_NAME[typeUrl]} "${resourceNameOf(m)}": cannot encode: ${(err as Error).message}`, {
          typeUrl,
          resourceName: resourceNameOf(m),
          cause: err,
        });
      }
      encoded.set(r.name, r);
    }
    types.set(typeUrl, createTypeSnapshot(typeUrl, input.version, encoded, options.maxCachedBodies));
    counts[SHORT_NAME[typeUrl]] = encoded.size;
  }
  return freeze(input.version, new Date(), types, counts);
}

function freeze(
  version: string,
  createdAt: Date,
  types: ReadonlyMap<TypeUrl, TypeSnapshot>,
  counts: Record<string, number>,
): Snapshot {
  return Object.freeze({
    version,
    createdAt,
    counts: Object.freeze(counts),
    type(typeUrl: TypeUrl): TypeSnapshot {
      const t = types.get(typeUrl);
      if (t === undefined) throw new XdsError('INVALID_ARGUMENT', `typeUrl: "${typeUrl}" is not served`);
      return t;
    },
  });
}

/**
 * Carries unchanged content of `previous` into `next`: a type whose digest did not change keeps the
 * previous TypeSnapshot (its version_info and cached bodies), and unchanged resources keep their
 * encoded bytes. Used by the cache so that only types that really changed get pushed.
 */
export function rebaseSnapshot(next: Snapshot, previous: Snapshot | undefined): Snapshot {
  if (previous === undefined) return next;
  const types = new Map<TypeUrl, TypeSnapshot>();
  for (const typeUrl of ALL_TYPE_URLS) {
    const n = next.type(typeUrl);
    const p = previous.type(typeUrl);
    if (n.digest === p.digest) {
      types.set(typeUrl, p);
      continue;
    }
    let reused = false;
    const merged = new Map<string, EncodedResource>();
    for (const [name, r] of n.resources) {
      const old = p.resources.get(name);
      if (old !== undefined && old.version === r.version) {
        merged.set(name, old);
        reused = true;
      } else merged.set(name, r);
    }
    types.set(typeUrl, reused ? createTypeSnapshot(typeUrl, n.version, merged) : n);
  }
  return freeze(next.version, next.createdAt, types, { ...next.counts });
}
