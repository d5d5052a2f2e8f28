/** Node metadata → node group → stable snapshot key. */
import { describe, expect, it } from 'vitest';
import { fromJson } from '@bufbuild/protobuf';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { nodeGroupKey, nodeGroupOf, translateAll, type NodeGroup } from '../../../control-plane/src/translate/index.js';
import { BootstrapSchema } from '../../../control-plane/src/gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { envoyRegistry } from '../../../control-plane/src/translate/index.js';
import { sampleModel } from '../model/fixtures.js';

describe('nodeGroupOf', () => {
  it('reads role, workload and labels', () => {
    expect(nodeGroupOf({ role: 'gateway', 'meshward.workload': 'gw/edge', labels: { app: 'edge' } })).toEqual({ role: 'gateway', workload: 'gw/edge', labels: { app: 'edge' } });
    expect(nodeGroupOf({ role: 'sidecar' })).toEqual({ role: 'sidecar', labels: {} });
  });
  it.each([
    [undefined, /"role" must be one of/],
    [{ role: 'router' }, /"role" must be one of/],
    [{ role: 'gateway', 'meshward.workload': 'edge' }, /"meshward.workload" must be "<namespace>\/<name>"/],
    [{ role: 'gateway', labels: ['a'] }, /"labels" must be an object/],
    [{ role: 'gateway', labels: { a: 1 } }, /"labels.a" must be a string/],
  ])('rejects %j', (md, reason) => {
    expect(nodeGroupOf(md as never)).toMatch(reason);
  });
  it('keys are stable and label order does not matter', () => {
    const a: NodeGroup = { role: 'gateway', labels: { b: '2', a: '1' } };
    const b: NodeGroup = { role: 'gateway', labels: { a: '1', b: '2' } };
    expect(nodeGroupKey(a)).toBe('role=gateway,labels=a=1;b=2');
    expect(nodeGroupKey(a)).toBe(nodeGroupKey(b));
    expect(nodeGroupKey({ role: 'sidecar', workload: 'models/chat-v1', labels: { x: 'y' } })).toBe('role=sidecar,workload=models/chat-v1');
  });
  it('the shipped bootstraps name a group that translates', () => {
    const yaml = parse(readFileSync(new URL('../../../envoy/gateway-bootstrap.yaml', import.meta.url), 'utf8'));
    const b = fromJson(BootstrapSchema, yaml, { registry: envoyRegistry });
    const g = nodeGroupOf(b.node!.metadata);
    if (typeof g === 'string') throw new Error(g);
    expect(translateAll(sampleModel(), g, { now: new Date() }).listeners.map((l) => l.name)).toEqual(['gateway|8443']);
  });
});
