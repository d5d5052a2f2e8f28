/**
 * Guarded canary rollouts: walks a rollout's steps (the `rollouts` resource of the REST API) on
 * schedule while the canary stays within bounds relative to the stable version, and rolls back by
 * itself on a breach.
 *
 * Contract:
 * - A rollout is guarded when a guard is attached (`attach`, stored in `rollout_guards`). The
 *   rollout resource stays the source of truth for phase, step and baseline; every change the guard
 *   makes is one store commit of the rollout's progress and the model's weights, with actor
 *   `meshward-rollout-guard` and a reason — so it is validated, audited, and reaches every Envoy
 *   through the controller like any operator change. Manual `advance`/`abort` through the API keep
 *   working; the guard reads the progress again at every evaluation.
 * - At every closed signal bucket (`onEvaluation`), for each guarded rollout that is not paused:
 *   Pending → apply step 1; Progressing → judge the canary (judge-canary.ts): a breach rolls back
 *   to the baseline weights (phase Aborted, the message says why) and raises a `high` alert
 *   `rollout-guard`; healthy and held for the step's `pauseSeconds` (else the guard's
 *   `holdSeconds`) → next step (the last step completes the rollout). Too few canary requests:
 *   the step holds.
 * - `pause`/`resume` stop and restart the automation (a paused guard neither advances nor rolls
 *   back); `abort` rolls back now. All three are audited (kind `rollout-guards` / the commit).
 * - A failed commit (e.g. someone changed the model meanwhile) is logged and retried at the next
 *   evaluation; it never throws into the signal engine.
 */
import type Database from 'better-sqlite3';
import type { ModelService } from '../model/model-service.js';
import type { Change, CandidateValidator, Store } from '../store/store.js';
import type { AlertEngine } from '../alerts/alert-engine.js';
import { ClosedLoopError } from '../alerts/alert-error.js';
import type { SignalEvaluation } from '../signals/signal-engine.js';
import { versionKey } from '../signals/signal-names.js';
import { parseGuardSpec, type GuardSpec } from './guard-spec.js';
import { judgeCanary, type CanaryVerdict } from './judge-canary.js';

export const GUARD_ACTOR = 'meshward-rollout-guard';

/** The parts of the API's rollout resource the guard reads and writes. */
interface RolloutProgress {
  phase: 'Pending' | 'Progressing' | 'Completed' | 'Aborted';
  currentStep: number;
  baseline?: Record<string, number>;
  startedAt?: string;
  updatedAt?: string;
  message?: string;
}
interface RolloutSpec {
  name: string;
  model: string;
  steps: { weights: Record<string, number>; pauseSeconds?: number }[];
  progress?: RolloutProgress;
  [k: string]: unknown;
}

export interface GuardStatus {
  readonly rollout: string;
  readonly spec: GuardSpec;
  readonly canary: string;
  readonly stable: string;
  readonly paused: boolean;
  readonly stepAppliedAt: string | undefined;
  readonly phase: RolloutProgress['phase'] | 'Missing';
  readonly currentStep: number;
  readonly message: string | undefined;
  /** The latest judgement (undefined before the first evaluation of this process). */
  readonly lastVerdict: CanaryVerdict | undefined;
}

export interface RolloutGuardLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RolloutGuardOptions {
  readonly store: Store & { readonly database: Database.Database };
  readonly alerts: AlertEngine;
  readonly now: () => number;
  /** The API's candidate check (domain model + translation), so guard commits are checked like operators'. */
  readonly validate?: CandidateValidator;
  readonly log?: RolloutGuardLog;
}

export interface RolloutGuard {
  attach(rollout: string, input: unknown, actor: string): GuardStatus;
  detach(rollout: string, actor: string): void;
  get(rollout: string): GuardStatus | undefined;
  list(): GuardStatus[];
  pause(rollout: string, actor: string, reason?: string): GuardStatus;
  resume(rollout: string, actor: string, reason?: string): GuardStatus;
  /** Rolls back to the baseline weights now (phase Aborted). */
  abort(rollout: string, actor: string, reason?: string): GuardStatus;
  /** Runs one guard pass; the closed loop calls it at each signal evaluation. */
  onEvaluation(evaluation: SignalEvaluation): void;
}

interface GuardRow {
  rollout: string;
  spec: string;
  paused: number;
  step_applied_at: string | null;
  updated_at: string;
  updated_by: string;
}

const NOOP_LOG: RolloutGuardLog = { info() {}, warn() {}, error() {} };

/** Canary/stable from the guard spec, else from the plan (see GuardSpec). */
export function resolveVersions(spec: GuardSpec, rollout: RolloutSpec, model: ModelService | undefined): { canary: string; stable: string } {
  const baseline = rollout.progress?.baseline ?? Object.fromEntries((model?.versions ?? []).map((v) => [v.name, v.weight ?? (model!.versions.length === 1 ? 100 : 0)]));
  const last = rollout.steps[rollout.steps.length - 1]?.weights ?? {};
  const names = [...new Set([...Object.keys(baseline), ...Object.keys(last)])].sort();
  const stable = spec.stable ?? [...names].sort((a, b) => (baseline[b] ?? 0) - (baseline[a] ?? 0) || a.localeCompare(b))[0] ?? '';
  const canary = spec.canary ?? [...names].filter((n) => n !== stable).sort((a, b) => (last[b] ?? 0) - (baseline[b] ?? 0) - ((last[a] ?? 0) - (baseline[a] ?? 0)) || a.localeCompare(b))[0] ?? '';
  return { canary, stable };
}

export function createRolloutGuard(options: RolloutGuardOptions): RolloutGuard {
  const { store, alerts } = options;
  const db = store.database;
  const log = options.log ?? NOOP_LOG;
  const iso = (): string => new Date(options.now()).toISOString();
  const verdicts = new Map<string, CanaryVerdict>();
  const getRow = db.prepare<[string], GuardRow>('SELECT * FROM rollout_guards WHERE rollout = ?');
  const setApplied = db.prepare('UPDATE rollout_guards SET step_applied_at = ? WHERE rollout = ?');

  const rolloutOf = (name: string): { spec: RolloutSpec; version: number } | undefined => {
    const r = store.get('rollouts', name);
    return r === undefined ? undefined : { spec: r.spec as RolloutSpec, version: r.resourceVersion };
  };

  const statusOf = (row: GuardRow): GuardStatus => {
    const spec = JSON.parse(row.spec) as GuardSpec;
    const r = rolloutOf(row.rollout);
    const model = r === undefined ? undefined : (store.get('models', r.spec.model)?.spec as ModelService | undefined);
    const { canary, stable } = r === undefined ? { canary: spec.canary ?? '', stable: spec.stable ?? '' } : resolveVersions(spec, r.spec, model);
    return {
      rollout: row.rollout,
      spec,
      canary,
      stable,
      paused: row.paused === 1,
      stepAppliedAt: row.step_applied_at ?? undefined,
      phase: r === undefined ? 'Missing' : (r.spec.progress?.phase ?? 'Pending'),
      currentStep: r?.spec.progress?.currentStep ?? -1,
      message: r?.spec.progress?.message,
      lastVerdict: verdicts.get(row.rollout),
    };
  };

  const need = (name: string): GuardRow => {
    const row = getRow.get(name);
    if (row === undefined) throw new ClosedLoopError('NOT_FOUND', `rollout ${name} has no guard`);
    return row;
  };

  /** One commit of progress + weights, as the API's advance/abort do. */
  const commit = (name: string, next: RolloutProgress, weights: Record<string, number> | undefined, actor: string, reason: string): void => {
    const r = rolloutOf(name);
    if (r === undefined) throw new ClosedLoopError('NOT_FOUND', `rollout ${name} does not exist`);
    const changes: Change[] = [{ op: 'update', kind: 'rollouts', name, spec: { ...r.spec, progress: next }, ifMatch: r.version }];
    if (weights !== undefined) {
      const m = store.get('models', r.spec.model);
      if (m === undefined) throw new ClosedLoopError('CONFLICT', `model ${r.spec.model} of rollout ${name} no longer exists`);
      const model = m.spec as ModelService;
      const missing = model.versions.filter((v) => weights[v.name] === undefined).map((v) => v.name);
      if (missing.length > 0) throw new ClosedLoopError('CONFLICT', `the weights of rollout ${name} do not cover versions ${missing.join(', ')} of model ${model.name}`);
      changes.push({ op: 'update', kind: 'models', name: r.spec.model, spec: { ...model, versions: model.versions.map((v) => ({ ...v, weight: weights[v.name]! })) }, ifMatch: m.resourceVersion });
    }
    store.commit(changes, { actor, reason, ...(options.validate === undefined ? {} : { validate: options.validate }) });
  };

  const baselineOf = (r: RolloutSpec): Record<string, number> => {
    if (r.progress?.baseline !== undefined) return r.progress.baseline;
    const model = store.get('models', r.model)?.spec as ModelService | undefined;
    return Object.fromEntries((model?.versions ?? []).map((v) => [v.name, v.weight ?? (model!.versions.length === 1 ? 100 : 0)]));
  };

  const applyStep = (name: string, r: RolloutSpec, step: number, reason: string): void => {
    const at = iso();
    const last = step === r.steps.length - 1;
    commit(
      name,
      {
        phase: last ? 'Completed' : 'Progressing',
        currentStep: step,
        baseline: baselineOf(r),
        startedAt: r.progress?.startedAt ?? at,
        updatedAt: at,
        message: `step ${step + 1} of ${r.steps.length} applied by the guard${last ? '; rollout completed' : ''}`,
      },
      r.steps[step]!.weights,
      GUARD_ACTOR,
      reason,
    );
    setApplied.run(at, name);
    log.info({ rollout: name, step: step + 1, weights: r.steps[step]!.weights }, `rollout ${name}: step ${step + 1} of ${r.steps.length} applied`);
  };

  const rollback = (name: string, r: RolloutSpec, actor: string, message: string): void => {
    const p = r.progress ?? { phase: 'Pending', currentStep: -1 };
    commit(name, { ...p, phase: 'Aborted', updatedAt: iso(), message }, p.baseline, actor, message);
  };

  const pass = (row: GuardRow, evaluation: SignalEvaluation): void => {
    if (row.paused === 1) return;
    const r = rolloutOf(row.rollout);
    if (r === undefined) return;
    const phase = r.spec.progress?.phase ?? 'Pending';
    if (phase === 'Completed' || phase === 'Aborted') return;
    const spec = JSON.parse(row.spec) as GuardSpec;
    if (phase === 'Pending') {
      const other = store.snapshot().resources.rollouts.find((x) => x.name !== row.rollout && (x.spec as RolloutSpec).model === r.spec.model && (x.spec as RolloutSpec).progress?.phase === 'Progressing');
      if (other !== undefined) return;
      applyStep(row.rollout, r.spec, 0, 'guarded rollout started');
      return;
    }
    const model = store.get('models', r.spec.model)?.spec as ModelService | undefined;
    const { canary, stable } = resolveVersions(spec, r.spec, model);
    const verdict = judgeCanary(evaluation.get('version', versionKey(r.spec.model, canary)), evaluation.get('version', versionKey(r.spec.model, stable)), spec);
    verdicts.set(row.rollout, verdict);
    if (verdict.verdict === 'breach') {
      const why = verdict.breaches.map((b) => b.message).join('; ');
      const message = `rolled back automatically at step ${(r.spec.progress?.currentStep ?? 0) + 1}: ${why}`;
      rollback(row.rollout, r.spec, GUARD_ACTOR, message);
      const first = verdict.breaches[0]!;
      alerts.raise({
        rule: 'rollout-guard',
        severity: 'high',
        dimension: 'rollout',
        key: row.rollout,
        signal: first.signal,
        value: first.canary,
        threshold: first.limit,
        summary: `rollout ${row.rollout} of model ${r.spec.model}: canary ${canary} ${message}; traffic restored to ${JSON.stringify(r.spec.progress?.baseline ?? {})}`,
        labels: { model: r.spec.model, canary, stable, rollout: row.rollout },
      });
      log.warn({ rollout: row.rollout, breaches: verdict.breaches }, `rollout ${row.rollout} rolled back: ${why}`);
      return;
    }
    if (verdict.verdict !== 'healthy') return;
    const step = r.spec.progress?.currentStep ?? 0;
    const hold = (r.spec.steps[step]?.pauseSeconds ?? spec.holdSeconds) * 1000;
    // The step started when it was applied, by the guard or by an operator (the API's advance
    // stamps progress.updatedAt), whichever is later.
    const byGuard = row.step_applied_at === null ? NaN : Date.parse(row.step_applied_at);
    const byApi = r.spec.progress?.updatedAt === undefined ? NaN : Date.parse(r.spec.progress.updatedAt);
    const appliedAt = Math.max(Number.isNaN(byGuard) ? -Infinity : byGuard, Number.isNaN(byApi) ? -Infinity : byApi);
    if (appliedAt === -Infinity) {
      setApplied.run(iso(), row.rollout);
      return;
    }
    if (options.now() - appliedAt >= hold && step + 1 < r.spec.steps.length) {
      applyStep(row.rollout, r.spec, step + 1, `canary ${canary} within bounds for ${Math.round((options.now() - appliedAt) / 1000)} s (${verdict.figures.canaryRequests} requests)`);
    }
  };

  const audit = (actor: string, action: string, name: string, after: unknown, reason?: string): void => {
    store.audit.record({ actor, action, kind: 'rollout-guards', name, after, ...(reason === undefined ? {} : { reason }) });
  };

  return {
    attach(rollout, input, actor) {
      const spec = parseGuardSpec(input);
      const r = rolloutOf(rollout);
      if (r === undefined) throw new ClosedLoopError('NOT_FOUND', `rollout ${rollout} does not exist`);
      const model = store.get('models', r.spec.model)?.spec as ModelService | undefined;
      const names = new Set(model?.versions.map((v) => v.name) ?? []);
      for (const k of ['canary', 'stable'] as const) {
        const v = spec[k];
        if (v !== undefined && !names.has(v)) throw ClosedLoopError.invalid(`/${k}`, `model ${r.spec.model} has no version ${v}`);
      }
      const { canary, stable } = resolveVersions(spec, r.spec, model);
      if (canary === '' || stable === '' || canary === stable) throw ClosedLoopError.invalid('/canary', `cannot tell the canary from the stable version of rollout ${rollout}; name them`);
      store.transaction(() => {
        db.prepare(
          `INSERT INTO rollout_guards (rollout, spec, paused, step_applied_at, updated_at, updated_by) VALUES (?, ?, 0, NULL, ?, ?)
           ON CONFLICT(rollout) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        ).run(rollout, JSON.stringify(spec), iso(), actor);
        audit(actor, 'attach', rollout, { ...spec, canary, stable });
      });
      return statusOf(getRow.get(rollout)!);
    },
    detach(rollout, actor) {
      need(rollout);
      store.transaction(() => {
        db.prepare('DELETE FROM rollout_guards WHERE rollout = ?').run(rollout);
        audit(actor, 'detach', rollout, undefined);
      });
      verdicts.delete(rollout);
    },
    get(rollout) {
      const row = getRow.get(rollout);
      return row === undefined ? undefined : statusOf(row);
    },
    list: () => db.prepare<[], GuardRow>('SELECT * FROM rollout_guards ORDER BY rollout').all().map(statusOf),
    pause(rollout, actor, reason) {
      need(rollout);
      store.transaction(() => {
        db.prepare('UPDATE rollout_guards SET paused = 1, updated_at = ?, updated_by = ? WHERE rollout = ?').run(iso(), actor, rollout);
        audit(actor, 'pause', rollout, { paused: true }, reason);
      });
      return statusOf(getRow.get(rollout)!);
    },
    resume(rollout, actor, reason) {
      need(rollout);
      store.transaction(() => {
        // The hold of the current step restarts: time spent paused does not count as healthy time.
        db.prepare('UPDATE rollout_guards SET paused = 0, step_applied_at = ?, updated_at = ?, updated_by = ? WHERE rollout = ?').run(iso(), iso(), actor, rollout);
        audit(actor, 'resume', rollout, { paused: false }, reason);
      });
      return statusOf(getRow.get(rollout)!);
    },
    abort(rollout, actor, reason) {
      need(rollout);
      const r = rolloutOf(rollout);
      if (r === undefined) throw new ClosedLoopError('NOT_FOUND', `rollout ${rollout} does not exist`);
      const phase = r.spec.progress?.phase ?? 'Pending';
      if (phase === 'Completed' || phase === 'Aborted') throw new ClosedLoopError('CONFLICT', `rollout ${rollout} is already ${phase}`);
      rollback(rollout, r.spec, actor, `aborted by ${actor}${reason === undefined ? '' : `: ${reason}`}; baseline weights restored`);
      return statusOf(getRow.get(rollout)!);
    },
    onEvaluation(evaluation) {
      for (const row of db.prepare<[], GuardRow>('SELECT * FROM rollout_guards ORDER BY rollout').all()) {
        try {
          pass(row, evaluation);
        } catch (err) {
          log.error({ rollout: row.rollout, err }, `rollout guard ${row.rollout}: ${(err as Error).message}; retrying at the next evaluation`);
        }
      }
    },
  };
}
