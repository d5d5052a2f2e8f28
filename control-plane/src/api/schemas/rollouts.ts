import { Type } from '@sinclair/typebox';
import { StringEnum } from './common.js';
import { Weights } from './models.js';
import { ResourceName } from './workloads.js';

/**
 * A rollout: a plan of traffic splits for one model's versions, walked step by step. Today steps
 * advance when an operator (or a script) calls `advance`; `strategy` is where guarded automation
 * (advance on healthy metrics, abort on regressions) plugs in later without changing the shape.
 */
export const RolloutStep = Type.Object(
  {
    weights: Weights,
    pauseSeconds: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 30 * 24 * 3600, description: 'Minimum time to hold this step before advancing (informational for manual rollouts).' }),
    ),
  },
  { additionalProperties: false },
);

export const Rollout = Type.Object(
  {
    name: ResourceName,
    model: ResourceName,
    steps: Type.Array(RolloutStep, { minItems: 1, maxItems: 100 }),
    strategy: Type.Optional(
      Type.Object({ kind: StringEnum(['manual']) }, { additionalProperties: false, description: "Defaults to {kind: 'manual'}." }),
    ),
  },
  { additionalProperties: false, description: "A version split plan for one model: each step sets the versions' weights." },
);

export const RolloutPhase = StringEnum(['Pending', 'Progressing', 'Completed', 'Aborted']);

export const RolloutStatus = Type.Object(
  {
    phase: RolloutPhase,
    /** -1 while Pending. */
    currentStep: Type.Integer({ minimum: -1 }),
    baseline: Type.Optional(Type.Record(Type.String(), Type.Integer(), { description: 'Weights before the first step (restored by abort).' })),
    startedAt: Type.Optional(Type.String()),
    updatedAt: Type.Optional(Type.String()),
    message: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const RolloutAction = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 1024, description: 'Recorded in the audit trail.' })) },
  { additionalProperties: false },
);
