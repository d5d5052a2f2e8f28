import { create, fromBinary, toBinary, type Message } from '@bufbuild/protobuf';
import type { ClientHttp2Session } from 'node:http2';
import { NodeSchema } from '../../control-plane/src/gen/envoy/config/core/v3/base_pb.js';
import {
  DeltaDiscoveryRequestSchema,
  DeltaDiscoveryResponseSchema,
  type DeltaDiscoveryResponse,
} from '../../control-plane/src/gen/envoy/service/discovery/v3/discovery_pb.js';
import { StatusSchema } from '../../control-plane/src/gen/google/rpc/status_pb.js';
import { isTypeUrl, schemaOf } from '../../control-plane/src/xds/type-urls.js';
import { connect, openStream, DELTA_PATH, type ConnectOptions, type GrpcStatus, type RawGrpcStream } from './raw-grpc-stream.js';
import { ResponseQueue } from './response-queue.js';
import type { NodeInit } from './sotw-ads-client.js';

export interface DeltaClientOptions extends ConnectOptions {
  readonly node: NodeInit;
  readonly metadata?: Readonly<Record<string, string>>;
  /** Return an error message to NACK the response. */
  readonly validate?: (typeUrl: string, response: DeltaDiscoveryResponse) => string | undefined;
  readonly autoAck?: boolean;
}

export interface DeltaTypeView {
  wildcard: boolean;
  names: Set<string>;
  /** name → version of held resources. */
  versions: Map<string, string>;
  resources: Map<string, Message>;
  /** Names the server said do not exist. */
  notFound: Set<string>;
}

export interface ReceivedDelta {
  readonly response: DeltaDiscoveryResponse;
  readonly typeUrl: string;
  readonly nonce: string;
  readonly systemVersionInfo: string;
  /** Names with a resource. */
  readonly updated: string[];
  /** Names announced as not existing (Resource without `resource`). */
  readonly notFound: string[];
  readonly removed: string[];
  readonly verdict: 'ack' | 'nack' | 'none';
}

/**
 * An incremental (delta) ADS client that behaves like Envoy: subscribe/unsubscribe deltas with no
 * nonce, ACK/NACK by nonce with error_detail, and on reconnect a first request per type carrying
 * initial_resource_versions of what it holds.
 */
export class DeltaAdsClient {
  readonly responses = new ResponseQueue<ReceivedDelta>();
  readonly types = new Map<string, DeltaTypeView>();
  private session!: ClientHttp2Session;
  private stream!: RawGrpcStream;
  private sentNode = false;
  status!: Promise<GrpcStatus>;

  private constructor(private readonly options: DeltaClientOptions) {}

  static async connect(options: DeltaClientOptions): Promise<DeltaAdsClient> {
    const c = new DeltaAdsClient(options);
    await c.open();
    return c;
  }

  private async open(): Promise<void> {
    this.session = await connect(this.options);
    this.stream = openStream(this.session, DELTA_PATH, this.options.metadata);
    this.status = this.stream.status;
    this.sentNode = false;
    this.stream.on('message', (payload: Buffer) => this.onMessage(payload));
  }

  view(typeUrl: string): DeltaTypeView {
    let v = this.types.get(typeUrl);
    if (v === undefined) {
      v = { wildcard: false, names: new Set(), versions: new Map(), resources: new Map(), notFound: new Set() };
      this.types.set(typeUrl, v);
    }
    return v;
  }

  private onMessage(payload: Buffer): void {
    const response = fromBinary(DeltaDiscoveryResponseSchema, payload);
    const typeUrl = response.typeUrl;
    const view = this.view(typeUrl);
    const updated: string[] = [];
    const notFound: string[] = [];
    let error: string | undefined;
    const decoded = new Map<string, { version: string; message: Message }>();
    for (const r of response.resources) {
      if (r.resource === undefined) {
        notFound.push(r.name);
        continue;
      }
      if (!isTypeUrl(typeUrl) || r.resource.typeUrl !== typeUrl) {
        error = `resource ${r.name} has type ${r.resource.typeUrl}`;
        continue;
      }
      try {
        decoded.set(r.name, { version: r.version, message: fromBinary(schemaOf(typeUrl), r.resource.value) });
        updated.push(r.name);
      } catch (err) {
        error = `cannot decode ${r.name}: ${(err as Error).message}`;
      }
    }
    let verdict: ReceivedDelta['verdict'] = 'none';
    if (this.options.autoAck !== false) {
      error ??= this.options.validate?.(typeUrl, response);
      if (error !== undefined) {
        this.send({ typeUrl, responseNonce: response.nonce, errorDetail: { code: 13, message: error } });
        verdict = 'nack';
      } else {
        for (const [name, d] of decoded) {
          view.versions.set(name, d.version);
          view.resources.set(name, d.message);
          view.notFound.delete(name);
        }
        for (const name of notFound) view.notFound.add(name);
        for (const name of response.removedResources) {
          view.versions.delete(name);
          view.resources.delete(name);
        }
        this.send({ typeUrl, responseNonce: response.nonce });
        verdict = 'ack';
      }
    }
    this.responses.push({
      response,
      typeUrl,
      nonce: response.nonce,
      systemVersionInfo: response.systemVersionInfo,
      updated: updated.sort(),
      notFound: notFound.sort(),
      removed: [...response.removedResources].sort(),
      verdict,
    });
  }

  send(init: {
    typeUrl: string;
    subscribe?: string[];
    unsubscribe?: string[];
    responseNonce?: string;
    initialResourceVersions?: Record<string, string>;
    errorDetail?: { code: number; message: string };
  }): void {
    const req = create(DeltaDiscoveryRequestSchema, {
      typeUrl: init.typeUrl,
      resourceNamesSubscribe: init.subscribe ?? [],
      resourceNamesUnsubscribe: init.unsubscribe ?? [],
      responseNonce: init.responseNonce ?? '',
      initialResourceVersions: init.initialResourceVersions ?? {},
      ...(init.errorDetail !== undefined ? { errorDetail: create(StatusSchema, init.errorDetail) } : {}),
      ...(!this.sentNode
        ? {
            node: create(NodeSchema, {
              id: this.options.node.id,
              cluster: this.options.node.cluster ?? '',
              ...(this.options.node.metadata !== undefined ? { metadata: this.options.node.metadata } : {}),
            }),
          }
        : {}),
    });
    this.sentNode = true;
    this.stream.write(toBinary(DeltaDiscoveryRequestSchema, req));
  }

  /** Spontaneous subscription change (no nonce), as Envoy sends it. */
  subscribe(typeUrl: string, subscribe: string[], unsubscribe: string[] = []): void {
    const view = this.view(typeUrl);
    for (const n of subscribe) n === '*' ? (view.wildcard = true) : view.names.add(n);
    for (const n of unsubscribe) {
      if (n === '*') view.wildcard = false;
      else {
        view.names.delete(n);
        view.versions.delete(n);
        view.resources.delete(n);
      }
    }
    this.send({ typeUrl, subscribe, unsubscribe });
  }

  /** Reconnects; each type's first request carries its names and initial_resource_versions. */
  async reconnect(): Promise<void> {
    this.stream.cancel();
    this.session.close();
    await this.open();
    for (const [typeUrl, view] of this.types) {
      const subscribe = [...(view.wildcard && view.names.size > 0 ? ['*'] : []), ...view.names];
      this.send({ typeUrl, subscribe, initialResourceVersions: Object.fromEntries(view.versions) });
    }
  }

  close(): void {
    this.stream.cancel();
    this.session.close();
  }
}
