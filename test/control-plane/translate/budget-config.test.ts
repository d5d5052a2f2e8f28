/** Budgets and access lists → the global DLP policy's ECDS config (the filter's `budgets` / `model_access`). */
import { describe, expect, it } from 'vitest';
import { StringValueSchema, anyUnpack } from '@bufbuild/protobuf/wkt';
import { sampleModel } from '../model/fixtures.js';
import { BUDGET_LEASE_CLUSTER, budgetConfigSections, checkConsistency, translateAll } from '../../../control-plane/src/translate/index.js';
import { WasmSchema } from '../../../control-plane/src/gen/envoy/extensions/filters/http/wasm/v3/wasm_pb.js';
import { validateMeshModel, type MeshModel } from '../../../control-plane/src/model/index.js';

const now = new Date('2026-11-26T10:00:00Z');

function withBudgets(): MeshModel {
  return {
    ...sampleModel(),
    budgets: [
      { name: 'z-daily', principals: ['spiffe://meshward.test/ns/apps/*'], tokens: 100000, window: 'day', shared: true },
      {
        name: 'a-hourly', principals: ['spiffe://meshward.test/ns/apps/sa/client'], models: ['gpt-4o*'], routes: ['chat'], tokens: 5000,
        window: 'hour', onExceed: 'clamp', minOutputTokens: 32, dryRun: false, costs: [{ model: 'gpt-4o*', input: 1, cachedInput: 0.5, output: 4 }],
      },
    ],
    modelAccessLists: [{ name: 'apps', principals: ['spiffe://meshward.test/ns/apps/*'], models: ['gpt-4o-mini'] }],
  };
}

function filterConfig(m: MeshModel, name: string): Record<string, unknown> {
  const res = translateAll(m, { role: 'gateway', workload: 'gw/edge' }, { now });
  const ecds = res.extensionConfigs.find((e) => e.name === name)!;
  const w = anyUnpack(ecds.typedConfig!, WasmSchema)!;
  return JSON.parse(anyUnpack(w.config!.configuration!, StringValueSchema)!.value) as Record<string, unknown>;
}

describe('budget translation', () => {
  it('is valid and lands in the global policy only, sorted by name, in the filter\'s snake_case', () => {
    const m = withBudgets();
    expect(validateMeshModel(m)).toEqual([]);
    const cfg = filterConfig(m, 'meshward.dlp');
    expect(cfg['mode']).toBe('enforce'); // the policy's own config is kept
    expect(cfg['budgets']).toEqual({
      limits: [
        {
          name: 'a-hourly', principals: ['spiffe://meshward.test/ns/apps/sa/client'], models: ['gpt-4o*'], routes: ['chat'], tokens: 5000, window: 'hour',
          on_exceed: 'clamp', min_output_tokens: 32, dry_run: false, costs: [{ model: 'gpt-4o*', input: 1, cached_input: 0.5, output: 4 }],
        },
        { name: 'z-daily', principals: ['spiffe://meshward.test/ns/apps/*'], tokens: 100000, window: 'day', shared: true },
      ],
    });
    expect(cfg['model_access']).toEqual({ lists: [{ name: 'apps', principals: ['spiffe://meshward.test/ns/apps/*'], models: ['gpt-4o-mini'] }] });
    for (const e of translateAll(m, { role: 'gateway', workload: 'gw/edge' }, { now }).extensionConfigs) {
      if (e.name === 'meshward.dlp') continue;
      expect(Object.keys(filterConfig(m, e.name))).not.toContain('budgets');
    }
  });

  it('leaves the config unchanged without budgets, and adds the lease target when given', () => {
    expect(filterConfig(sampleModel(), 'meshward.dlp')).not.toHaveProperty('budgets');
    expect(budgetConfigSections(withBudgets(), { cluster: 'meshward_cp', authority: 'cp.meshward', leaseTokens: 500 })['budgets']).toMatchObject({
      lease: { cluster: 'meshward_cp', authority: 'cp.meshward', tokens: 500 },
    });
    // release_after_ms only when given (else the filter's default, 30 s, applies).
    expect((budgetConfigSections(withBudgets(), { cluster: 'meshward_cp', authority: 'cp.meshward' })['budgets'] as { lease: object }).lease).not.toHaveProperty('release_after_ms');
    expect(budgetConfigSections(withBudgets(), { cluster: 'meshward_cp', authority: 'cp.meshward', releaseAfterMs: 0 })['budgets']).toMatchObject({
      lease: { release_after_ms: 0 },
    });
  });

  it('with a lease endpoint: the filter asks the lease cluster, which speaks mesh mTLS to the API', () => {
    const m = withBudgets();
    const res = translateAll(m, { role: 'gateway', workload: 'gw/edge' }, { now, budgetLeases: { address: 'cp.meshward.svc', port: 8443, leaseTokens: 2000, releaseAfterMs: 60000, authorization: 'Bearer mw_x_y' } });
    expect(checkConsistency(res)).toEqual([]);
    const c = res.clusters.find((x) => x.name === BUDGET_LEASE_CLUSTER)!;
    expect(c.transportSocket?.name).toBe('envoy.transport_sockets.tls');
    expect(res.secretNames).toEqual(expect.arrayContaining(['default', 'ROOTCA']));
    const ecds = res.extensionConfigs.find((e) => e.name === 'meshward.dlp')!;
    const cfg = JSON.parse(anyUnpack(anyUnpack(ecds.typedConfig!, WasmSchema)!.config!.configuration!, StringValueSchema)!.value);
    expect(cfg.budgets.lease).toEqual({ cluster: BUDGET_LEASE_CLUSTER, authority: 'cp.meshward.svc', tokens: 2000, authorization: 'Bearer mw_x_y', release_after_ms: 60000 });
    // No budgets: no lease cluster.
    const none = translateAll(sampleModel(), { role: 'gateway', workload: 'gw/edge' }, { now, budgetLeases: { address: '10.0.0.9', port: 8443 } });
    expect(none.clusters.some((x) => x.name === BUDGET_LEASE_CLUSTER)).toBe(false);
  });

  it('the consistency check refuses a filter config naming a lease cluster the resources lack', () => {
    const res = translateAll(withBudgets(), { role: 'gateway', workload: 'gw/edge' }, { now, budgetLeases: { address: '10.0.0.9', port: 8080, tls: 'plaintext' } });
    expect(checkConsistency(res)).toEqual([]);
    const broken = { ...res, clusters: res.clusters.filter((c) => c.name !== BUDGET_LEASE_CLUSTER) };
    expect(checkConsistency(broken)).toEqual([
      {
        type: 'TypedExtensionConfig',
        name: 'meshward.dlp',
        field: 'typed_config.config.configuration.budgets.lease.cluster',
        reason: `cluster "${BUDGET_LEASE_CLUSTER}" does not exist`,
      },
    ]);
  });

  it('validation names budget fields', () => {
    const m: MeshModel = { ...withBudgets(), budgets: [{ name: 'Bad', principals: ['nope'], tokens: 0, window: 'week' as 'day', routes: ['ghost'] }] };
    const issues = validateMeshModel(m).filter((i) => i.kind === 'budget').map((i) => `${i.field}: ${i.code}`);
    expect(issues).toEqual(['name: invalid', 'principals[0]: invalid', 'routes[0]: unknown_reference', 'tokens: out_of_range', 'window: invalid']);
  });
});
