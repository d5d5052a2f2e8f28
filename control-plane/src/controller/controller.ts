/**
 * The controller: the loop from declared state to what every Envoy runs.
 *
 *   store change event ─▶ debounced publisher ─▶ load model at the store's revision ─▶ validate
 *     ─▶ per node group: translate (gateway / sidecar / proxyless) ─▶ checkConsistency
 *     ─▶ snapshot (version = store revision) ─▶ snapshot cache ─▶ ADS streams
 *
 * Contracts:
 * - Versions are store revisions (see snapshot-version.ts) and, across restarts, each type keeps
 *   the version it was served under while its content is unchanged (type-versions.ts).
 * - Groups: one per workload (`role=<role>;workload=<ns>/<name>`, built ahead of any connection so
 *   a node's first request is answered at once) plus any other group a node's metadata forms
 *   (labels, role-less), built when its first stream arrives (fleet `connect`).
 * - Refusal: an invalid stored model refuses the whole publish; a group that cannot be built keeps
 *   its previous snapshot. Either way the error is logged and kept in {@link Controller.status}
 *   until a later publish succeeds for it. (The candidate check refuses such changes before they
 *   are committed; this is the second line, e.g. for a model written by an older version.)
 * - Time windows: after each publish the controller arms one timer (injectable clock) for the
 *   next window transition of the model and re-publishes then, with a new `.w` version tag.
 * - Lifecycle: `start()` subscribes and publishes the current revision (resolving when it is in the
 *   cache); `stop()` unsubscribes, cancels timers and drops pending changes. The controller owns
 *   nothing else: store, cache and fleet belong to the caller.
 */
import type { AuthorizeNode } from '../xds/stream-auth.js';
import type { FleetView, StreamStatus } from '../xds/fleet-view.js';
import { XdsError } from '../xds/errors.js';
import { createPublisher, type PublishResult } from '../xds/publisher.js';
import type { Snapshot } from '../xds/snapshot.js';
import type { SnapshotCache } from '../xds/snapshot-cache.js';
import { ALL_TYPE_URLS, SHORT_NAME, TypeUrl } from '../xds/type-urls.js';
import type { CandidateValidator, Store } from '../store/store.js';
import { toMeshModel } from '../store/to-mesh-model.js';
import { formatValidationIssue } from '../model/validation-issue.js';
import { validateMeshModel } from '../model/validate-mesh-model.js';
import type { MeshModel } from '../model/mesh-model.js';
import { workloadKey, workloadSpiffeId, type Workload } from '../model/workload.js';
import { createSystemClock, type Clock, type ClockTimer } from '../ca/clock.js';
import { createNodeAuthorizer } from '../ca/stream-authenticator.js';
import { createCandidateCheck } from './candidate-check.js';
import { ControllerError } from './controller-error.js';
import { groupSnapshot, groupSnapshotInput } from './group-snapshot.js';
import type { BudgetLeaseEndpoint } from '../translate/budget-config.js';
import { groupKeyOf, parseGroupKey, UNRESOLVED_GROUP } from './node-group-key.js';
import { nextWindowFlip } from './snapshot-version.js';
import { createMemoryTypeVersions, seedSnapshot, typeVersionsOf, type TypeVersionFile } from './type-versions.js';

/** The few logger methods the controller uses (pino's signature). */
export interface ControllerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface ControllerOptions {
  readonly store: Store;
  /** Must group nodes with {@link groupKeyOf} (`createSnapshotCache({ groupOf: groupKeyOf })`). */
  readonly cache: SnapshotCache;
  /** The xDS server's fleet: new groups are built when their first stream connects. */
  readonly fleet?: FleetView;
  /** Trust domain until a `mesh` resource is stored. */
  readonly defaultTrustDomain: string;
  /** Time for translation (time windows) and the window timer. Defaults to the system clock. */
  readonly clock?: Clock;
  /** Debounce of store changes. Defaults to 100 ms quiet / 1000 ms max. */
  readonly quietMs?: number;
  readonly maxDelayMs?: number;
  readonly proxylessRbac?: boolean;
  /**
   * Where proxies ask for token-budget leases (translate's `budgetLeases`), read at every build.
   * It must not change while the store revision stays the same (a snapshot version names one
   * content): set it before {@link Controller.start}. Absent or undefined: each proxy enforces
   * budgets alone.
   */
  readonly budgetLeases?: () => BudgetLeaseEndpoint | undefined;
  /** Per-type versions across restarts. Defaults to in-memory (no persistence). */
  readonly typeVersions?: TypeVersionFile;
  readonly log?: ControllerLog;
  /** Builds one group's snapshot input. Defaults to {@link groupSnapshotInput} (translate/ + checkConsistency); a seam for tests. */
  readonly groupSnapshot?: typeof groupSnapshotInput;
  /** Called after every publish attempt, with the time it took to build, check and publish. */
  readonly onPublish?: (result: PublishResult, status: ControllerStatus, seconds: number) => void;
}

/** The serving state of one group. */
export interface GroupStatus {
  readonly group: string;
  /** Version of the snapshot being served (undefined: none yet). */
  readonly version: string | undefined;
  /**
   * version_info served per config type (short name: LDS, RDS, CDS, EDS, ECDS): the version at which
   * that type's content last changed, so older than `version` for types a change left alone. This is
   * what an in-sync Envoy has ACKed. SDS is absent: secrets are versioned per identity, not per group.
   */
  readonly types: Readonly<Record<string, string>>;
  /** Why the latest build of this group failed (its previous snapshot keeps serving). */
  readonly error: { readonly code: string; readonly message: string; readonly revision: number } | undefined;
}

export interface ControllerStatus {
  readonly storeRevision: number;
  /** Revision of the latest publish that succeeded (all buildable groups published). */
  readonly publishedRevision: number | undefined;
  /** Set when the whole latest publish was refused (e.g. the stored model is invalid). */
  readonly error: { readonly code: string; readonly message: string; readonly revision: number } | undefined;
  readonly groups: readonly GroupStatus[];
  /** When the next time-window transition re-publishes, if any. */
  readonly nextWindowFlip: Date | undefined;
  /** When the latest publish attempt ended (successful or refused); undefined before the first. */
  readonly lastPublishAt: Date | undefined;
  /** When the latest successful publish ended. */
  readonly lastPublishedAt: Date | undefined;
}

export interface Controller {
  /** Subscribes to the store and fleet and publishes the current revision. Resolves with that publish. */
  start(): Promise<PublishResult>;
  /** Publishes now (pending changes included). */
  flush(): Promise<PublishResult>;
  /** Unsubscribes and cancels timers. Idempotent. */
  stop(): void;
  /** For the API's `validateCandidate`: refuses changes that would produce unservable snapshots. */
  readonly validateCandidate: CandidateValidator;
  /**
   * For the xDS server's `authorizeNode` (runs on a stream's first request): the CA's check
   * (node-declared identity), then "a node only gets the config of its own workload": its metadata
   * must resolve to exactly one existing workload of the role it states, whose SPIFFE ID is the
   * stream's identity. Refusals end the stream with PERMISSION_DENIED and say why; Envoy retries
   * the stream, so a node that starts before its workload is registered gets in once it is.
   * Streams without an identity (no authenticator configured) are not checked.
   */
  readonly authorizeNode: AuthorizeNode;
  status(): ControllerStatus;
}

/** The group-level config types (secrets are per identity). */
const CONFIG_TYPE_URLS = ALL_TYPE_URLS.filter((t) => t !== TypeUrl.Secret);

const NOOP_LOG: ControllerLog = { info() {}, warn() {}, error() {}, debug() {} };

export function createController(options: ControllerOptions): Controller {
  const { store, cache } = options;
  const clock = options.clock ?? createSystemClock();
  const log = options.log ?? NOOP_LOG;
  const typeVersions = options.typeVersions ?? createMemoryTypeVersions();
  const td = options.defaultTrustDomain;
  const proxylessRbac = options.proxylessRbac ?? true;
  const buildGroup = options.groupSnapshot ?? groupSnapshotInput;
  /** Groups to build besides every workload's own: those nodes formed (labels, role-less). */
  const nodeGroups = new Set<string>();
  const groupErrors = new Map<string, { code: string; message: string; revision: number }>();
  /** Group → revision of its last failed attempt (so a connect storm does not rebuild in a loop). */
  const failedAt = new Map<string, number>();
  let batchError: ControllerStatus['error'];
  let publishedRevision: number | undefined;
  let lastPublishAt: Date | undefined;
  let lastPublishedAt: Date | undefined;
  let windowTimer: ClockTimer | undefined;
  let nextFlip: Date | undefined;
  let unsubscribeStore: (() => void) | undefined;
  let connectScheduled = false;
  let stopped = false;
  let started = false;
  /** The model of the revision being built (read by the publish callback). */
  let built: { revision: number; model: MeshModel } | undefined;

  const modelCache = { revision: -1, model: undefined as MeshModel | undefined };
  const currentModel = (): { revision: number; model: MeshModel } => {
    const snap = store.snapshot();
    if (modelCache.revision !== snap.revision || modelCache.model === undefined) {
      modelCache.revision = snap.revision;
      modelCache.model = toMeshModel(snap, td);
    }
    return { revision: snap.revision, model: modelCache.model };
  };

  let buildStartedAt = 0;
  const build = (): Map<string, Snapshot> => {
    buildStartedAt = performance.now();
    const { revision, model } = currentModel();
    built = { revision, model };
    const issues = validateMeshModel(model);
    if (issues.length > 0) {
      throw new ControllerError(
        'INVALID_MODEL',
        `the stored model at revision ${revision} is invalid, nothing published: ${issues.slice(0, 3).map(formatValidationIssue).join('; ')}${issues.length > 3 ? '; ...' : ''}`,
      );
    }
    const now = new Date(clock.now());
    const wanted = new Map<string, ReturnType<typeof parseGroupKey>>();
    for (const w of model.workloads) wanted.set(`role=${w.role};workload=${workloadKey(w)}`, { role: w.role, workload: workloadKey(w) });
    for (const g of [...nodeGroups, ...cache.groups()]) if (!wanted.has(g)) wanted.set(g, parseGroupKey(g));
    const out = new Map<string, Snapshot>();
    const leases = options.budgetLeases?.();
    const connected = groupsWithStreams();
    for (const [group, selector] of wanted) {
      if (selector === undefined) continue;
      try {
        const snapshot = groupSnapshot(buildGroup(model, group, selector, { revision, now, proxylessRbac, ...(leases !== undefined ? { budgetLeases: leases } : {}) }), group);
        groupErrors.delete(group);
        failedAt.delete(group);
        // The first snapshot of a group in this process keeps the versions served before a restart.
        out.set(group, cache.getSnapshot(group) === undefined ? seedSnapshot(snapshot, typeVersions.get(group)) : snapshot);
      } catch (err) {
        const e = ControllerError.is(err) ? err : new ControllerError('UNTRANSLATABLE', (err as Error).message, { group, cause: err });
        failedAt.set(group, revision);
        if (e.code === 'NO_WORKLOAD' && !connected.has(group)) {
          // A deleted workload with no Envoy left: forget its group.
          nodeGroups.delete(group);
          groupErrors.delete(group);
          if (cache.getSnapshot(group) !== undefined) cache.clearSnapshot(group);
          continue;
        }
        const previous = groupErrors.get(group);
        groupErrors.set(group, { code: e.code, message: e.message, revision });
        if (previous?.message !== e.message) {
          log.warn({ group, code: e.code, revision, serving: cache.getSnapshot(group)?.version }, `cannot build the snapshot of group ${group}; its previous snapshot keeps serving: ${e.message}`);
        }
      }
    }
    return out;
  };

  const groupsWithStreams = (): Set<string> => new Set(options.fleet?.streams().map((s) => s.group) ?? []);

  /** The model the window timer was armed for (finding the next transition scans days ahead: do it once per model). */
  let armedFor: MeshModel | undefined;
  const armWindowTimer = (model: MeshModel): void => {
    if (stopped) return;
    if (armedFor === model && windowTimer !== undefined && nextFlip !== undefined && nextFlip.getTime() > clock.now()) return;
    if (windowTimer !== undefined) clock.clearTimer(windowTimer);
    windowTimer = undefined;
    armedFor = model;
    nextFlip = nextWindowFlip(model, new Date(clock.now()));
    if (nextFlip === undefined) return;
    log.debug({ at: nextFlip.toISOString() }, 'next authorization time-window transition');
    windowTimer = clock.setTimer(async () => {
      windowTimer = undefined;
      if (stopped) return;
      const result = await publisher.flush();
      if (result.error === undefined) log.info({ published: result.published }, 'authorization time window changed; snapshots re-published');
    }, nextFlip.getTime() - clock.now());
  };

  const status = (): ControllerStatus => ({
    storeRevision: store.revision,
    publishedRevision,
    error: batchError,
    groups: [...new Set([...cache.groups(), ...groupErrors.keys()])].sort().map((group) => {
      const snapshot = cache.getSnapshot(group);
      const types: Record<string, string> = {};
      if (snapshot !== undefined) for (const t of CONFIG_TYPE_URLS) types[SHORT_NAME[t]] = snapshot.type(t).version;
      return { group, version: snapshot?.version, types, error: groupErrors.get(group) };
    }),
    nextWindowFlip: nextFlip,
    lastPublishAt,
    lastPublishedAt,
  });

  const publisher = createPublisher<number>({
    cache,
    build,
    quietMs: options.quietMs ?? 100,
    maxDelayMs: options.maxDelayMs ?? 1000,
    onPublish(result) {
      const revision = built?.revision ?? store.revision;
      lastPublishAt = new Date(clock.now());
      if (result.error !== undefined) {
        batchError = { code: ControllerError.is(result.error.cause) ? result.error.cause.code : result.error.code, message: result.error.message, revision };
        log.error({ revision, code: batchError.code, refusedGroup: result.refusedGroup }, `publish refused; the previous snapshots keep serving: ${result.error.message}`);
      } else {
        batchError = undefined;
        publishedRevision = revision;
        lastPublishedAt = lastPublishAt;
        typeVersions.record(result.published.map(({ group }) => [group, typeVersionsOf(cache.getSnapshot(group)!)] as const));
        if (result.published.length > 0) log.debug({ revision, published: result.published }, 'snapshots published');
      }
      if (built !== undefined) armWindowTimer(built.model);
      options.onPublish?.(result, status(), (performance.now() - buildStartedAt) / 1000);
    },
  });

  const onConnect = (s: StreamStatus): void => {
    if (stopped || s.group === UNRESOLVED_GROUP) {
      if (s.group === UNRESOLVED_GROUP) {
        log.warn({ nodeId: s.nodeId, streamId: s.streamId }, "node metadata names no workload ('meshward.workload') and no role ('role'); it is served nothing");
      }
      return;
    }
    if (cache.getSnapshot(s.group) !== undefined) return;
    nodeGroups.add(s.group);
    if (failedAt.get(s.group) === store.revision) return;
    if (connectScheduled) return;
    connectScheduled = true;
    setImmediate(() => {
      connectScheduled = false;
      if (!stopped) void publisher.flush();
    });
  };

  const candidateCheck = createCandidateCheck({
    defaultTrustDomain: td,
    current: () => store.snapshot(),
    now: () => new Date(clock.now()),
    proxylessRbac,
    groupSnapshot: buildGroup,
    ...(options.budgetLeases !== undefined ? { budgetLeases: options.budgetLeases } : {}),
  });

  const caNodeCheck = createNodeAuthorizer();
  const authorizeNode: AuthorizeNode = (identity, node) => {
    caNodeCheck(identity, node);
    // Without an authenticator there is no identity to hold the node to.
    if (identity === undefined) return;
    const key = groupKeyOf(node);
    const selector = parseGroupKey(key);
    if (selector === undefined) {
      throw new XdsError(
        'PERMISSION_DENIED',
        `node "${node.id}": its metadata must name its workload ('meshward.workload: <namespace>/<name>') or its role ('role: gateway|sidecar|proxyless')`,
      );
    }
    const { model } = currentModel();
    let w: Workload | undefined;
    if (selector.workload !== undefined) {
      w = model.workloads.find((x) => workloadKey(x) === selector.workload);
      if (w === undefined) throw new XdsError('PERMISSION_DENIED', `node "${node.id}" names workload "${selector.workload}", which does not exist`);
    } else {
      const labels = selector.labels ?? {};
      const matches = model.workloads.filter((x) => x.role === selector.role && Object.entries(x.labels ?? {}).every(([k, v]) => labels[k] === v));
      if (matches.length !== 1) {
        throw new XdsError(
          'PERMISSION_DENIED',
          `node "${node.id}" (role ${selector.role}, labels ${JSON.stringify(labels)}) matches ${matches.length === 0 ? 'no workload' : `${matches.length} workloads (${matches.map(workloadKey).join(', ')})`}; name one with 'meshward.workload'`,
        );
      }
      w = matches[0]!;
    }
    if (selector.role !== undefined && selector.role !== w.role) {
      throw new XdsError('PERMISSION_DENIED', `node "${node.id}" says role ${selector.role}, but workload "${workloadKey(w)}" has role ${w.role}`);
    }
    const expected = workloadSpiffeId(model.mesh, w);
    if (expected !== identity.id) {
      throw new XdsError(
        'PERMISSION_DENIED',
        `node "${node.id}" asks for the configuration of workload "${workloadKey(w)}" (identity ${expected}) but the stream authenticated as ${identity.id}`,
      );
    }
  };

  return {
    async start() {
      if (started) throw new ControllerError('PUBLISH_REFUSED', 'start: the controller was already started');
      started = true;
      unsubscribeStore = store.onChange((event) => {
        if (!stopped) publisher.notify(event.revision);
      });
      options.fleet?.on('connect', onConnect);
      // Streams that connected before start (e.g. while the REST API was still binding) get their groups built too.
      for (const s of options.fleet?.streams() ?? []) if (s.group !== UNRESOLVED_GROUP) nodeGroups.add(s.group);
      const result = await publisher.flush();
      log.info({ revision: store.revision, groups: result.published.length }, result.error === undefined ? 'initial snapshots published' : 'initial publish refused');
      return result;
    },
    flush: () => publisher.flush(),
    stop() {
      if (stopped) return;
      stopped = true;
      unsubscribeStore?.();
      options.fleet?.off('connect', onConnect);
      publisher.close();
      if (windowTimer !== undefined) clock.clearTimer(windowTimer);
      windowTimer = undefined;
      nextFlip = undefined;
    },
    validateCandidate: candidateCheck,
    authorizeNode,
    status,
  };
}
