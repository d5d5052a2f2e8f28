import { create, fromBinary, toBinary, type Message } from '@bufbuild/protobuf';
import type { ClientHttp2Session } from 'node:http2';
import { NodeSchema, type Node } from '../../control-plane/src/gen/envoy/config/core/v3/base_pb.js';
import {
  DiscoveryRequestSchema,
  DiscoveryResponseSchema,
  type DiscoveryRequest,
  type DiscoveryResponse,
} from '../../control-plane/src/gen/envoy/service/discovery/v3/discovery_pb.js';
import { StatusSchema } from '../../control-plane/src/gen/google/rpc/status_pb.js';
import { resourceNameOf, schemaOf, isTypeUrl } from '../../control-plane/src/xds/type-urls.js';
import { connect, openStream, SOTW_PATH, type ConnectOptions, type GrpcStatus, type RawGrpcStream } from './raw-grpc-stream.js';
import { ResponseQueue } from './response-queue.js';

export interface NodeInit {
  readonly id: string;
  readonly cluster?: string;
  readonly metadata?: Record<string, string>;
}

export interface SotwClientOptions extends ConnectOptions {
  readonly node: NodeInit;
  /** gRPC request metadata (e.g. authorization). */
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * Envoy's validation: return an error message to NACK a response, undefined to accept it.
   * Defaults to accepting everything that decodes.
   */
  readonly validate?: (typeUrl: string, resources: ReadonlyMap<string, Message>, response: DiscoveryResponse) => string | undefined;
  /** ACK/NACK automatically as Envoy does. Defaults to true. */
  readonly autoAck?: boolean;
}

/** What the client holds for one typeUrl, as Envoy would. */
export interface SotwTypeView {
  names: string[];
  /** Last accepted version_info ('' before any). */
  acceptedVersion: string;
  /** Last received nonce. */
  nonce: string;
  resources: Map<string, Message>;
}

/** A received response, decoded, with what the client did about it. */
export interface ReceivedSotw {
  readonly response: DiscoveryResponse;
  readonly typeUrl: string;
  readonly versionInfo: string;
  readonly nonce: string;
  readonly names: string[];
  readonly resources: Map<string, Message>;
  readonly verdict: 'ack' | 'nack' | 'none';
}

/**
 * A state-of-the-world ADS client that behaves like Envoy: one HTTP/2 connection, node on the
 * first request only, the latest nonce and last accepted version on every request, ACK/NACK with
 * error_detail (NACK carries the previous accepted version), reconnect with the last versions.
 */
export class SotwAdsClient {
  readonly responses = new ResponseQueue<ReceivedSotw>();
  readonly types = new Map<string, SotwTypeView>();
  private session!: ClientHttp2Session;
  private stream!: RawGrpcStream;
  private sentNode = false;
  status!: Promise<GrpcStatus>;

  private constructor(private readonly options: SotwClientOptions) {}

  static async connect(options: SotwClientOptions): Promise<SotwAdsClient> {
    const c = new SotwAdsClient(options);
    await c.open();
    return c;
  }

  private async open(): Promise<void> {
    this.session = await connect(this.options);
    this.stream = openStream(this.session, SOTW_PATH, this.options.metadata);
    this.status = this.stream.status;
    this.sentNode = false;
    this.stream.on('message', (payload: Buffer) => this.onMessage(payload));
  }

  private node(): Node {
    const n = this.options.node;
    return create(NodeSchema, { id: n.id, cluster: n.cluster ?? '', ...(n.metadata !== undefined ? { metadata: n.metadata } : {}) });
  }

  private onMessage(payload: Buffer): void {
    const response = fromBinary(DiscoveryResponseSchema, payload);
    const typeUrl = response.typeUrl;
    const resources = new Map<string, Message>();
    let decodeError: string | undefined;
    for (const any of response.resources) {
      if (any.typeUrl !== typeUrl || !isTypeUrl(typeUrl)) {
        decodeError = `resource of type ${any.typeUrl} in a ${typeUrl} response`;
        continue;
      }
      try {
        const m = fromBinary(schemaOf(typeUrl), any.value);
        resources.set(resourceNameOf(m), m);
      } catch (err) {
        decodeError = `cannot decode: ${(err as Error).message}`;
      }
    }
    const view = this.view(typeUrl);
    view.nonce = response.nonce;
    let verdict: ReceivedSotw['verdict'] = 'none';
    if (this.options.autoAck !== false) {
      const error = decodeError ?? this.options.validate?.(typeUrl, resources, response);
      if (error !== undefined) {
        this.nack(typeUrl, error);
        verdict = 'nack';
      } else {
        this.accept(typeUrl, response, resources);
        this.send({ typeUrl, versionInfo: view.acceptedVersion, responseNonce: view.nonce, resourceNames: view.names });
        verdict = 'ack';
      }
    }
    this.responses.push({
      response,
      typeUrl,
      versionInfo: response.versionInfo,
      nonce: response.nonce,
      names: [...resources.keys()].sort(),
      resources,
      verdict,
    });
  }

  private accept(typeUrl: string, response: DiscoveryResponse, resources: Map<string, Message>): void {
    const view = this.view(typeUrl);
    view.acceptedVersion = response.versionInfo;
    const wholeState = typeUrl.endsWith('.Listener') || typeUrl.endsWith('.Cluster');
    if (wholeState) view.resources = resources;
    else for (const [k, v] of resources) view.resources.set(k, v);
  }

  view(typeUrl: string): SotwTypeView {
    let v = this.types.get(typeUrl);
    if (v === undefined) {
      v = { names: [], acceptedVersion: '', nonce: '', resources: new Map() };
      this.types.set(typeUrl, v);
    }
    return v;
  }

  /** Sends a request as-is (plus the node on the first request of the stream). */
  send(init: Partial<Omit<DiscoveryRequest, '$typeName' | 'errorDetail'>> & { errorDetail?: { code: number; message: string } }): void {
    const req = create(DiscoveryRequestSchema, {
      versionInfo: init.versionInfo ?? '',
      resourceNames: init.resourceNames ?? [],
      typeUrl: init.typeUrl ?? '',
      responseNonce: init.responseNonce ?? '',
      ...(init.errorDetail !== undefined ? { errorDetail: create(StatusSchema, init.errorDetail) } : {}),
      ...(init.node !== undefined ? { node: init.node } : !this.sentNode ? { node: this.node() } : {}),
    });
    this.sentNode = true;
    this.stream.write(toBinary(DiscoveryRequestSchema, req));
  }

  /** Subscribes (or changes the subscription of) a type, Envoy style: latest nonce, accepted version. */
  subscribe(typeUrl: string, names: string[]): void {
    const view = this.view(typeUrl);
    view.names = [...names];
    this.send({ typeUrl, versionInfo: view.acceptedVersion, responseNonce: view.nonce, resourceNames: view.names });
  }

  /** NACKs the latest response of a type: previous accepted version, latest nonce, error_detail. */
  nack(typeUrl: string, message: string, code = 13): void {
    const view = this.view(typeUrl);
    this.send({ typeUrl, versionInfo: view.acceptedVersion, responseNonce: view.nonce, resourceNames: view.names, errorDetail: { code, message } });
  }

  /** Stops reading responses (simulates a hung client). */
  pauseReading(): void {
    this.stream.pause();
  }

  resumeReading(): void {
    this.stream.resume();
  }

  /** Sends raw bytes inside a gRPC frame (garbage tests). */
  sendBytes(bytes: Uint8Array): void {
    this.sentNode = true;
    this.stream.write(bytes);
  }

  /** Drops the connection and reconnects, re-subscribing every type with its last accepted version. */
  async reconnect(): Promise<void> {
    this.stream.cancel();
    this.session.close();
    await this.open();
    for (const [typeUrl, view] of this.types) {
      view.nonce = '';
      this.send({ typeUrl, versionInfo: view.acceptedVersion, responseNonce: '', resourceNames: view.names });
    }
  }

  close(): void {
    this.stream.cancel();
    this.session.close();
  }
}
