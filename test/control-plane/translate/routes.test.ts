/** Gateway/sidecar/proxyless route configurations: order, matches, splits, pins, retries, timeouts. */
import { describe, expect, it } from 'vitest';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { durationMs } from '@bufbuild/protobuf/wkt';
import { sampleModel } from '../model/fixtures.js';
import { NO_MODEL_BODY, translateAll, gatewayRouteConfiguration, proxylessRouteConfiguration } from '../../../control-plane/src/translate/index.js';
import { FilterConfigSchema, type Route, type HeaderMatcher } from '../../../control-plane/src/gen/envoy/config/route/v3/route_components_pb.js';
import { LocalRateLimitSchema } from '../../../control-plane/src/gen/envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit_pb.js';
import type { MeshModel } from '../../../control-plane/src/model/mesh-model.js';
import { HeaderValueOption_HeaderAppendAction } from '../../../control-plane/src/gen/envoy/config/core/v3/base_pb.js';

const now = new Date('2026-11-25T10:00:00Z');
const gatewayRoutes = (m: MeshModel = sampleModel()): Route[] =>
  translateAll(m, { role: 'gateway', workload: 'gw/edge' }, { now }).routes[0]!.virtualHosts[0]!.routes;

function headerValue(h: HeaderMatcher): string | undefined {
  const s = h.headerMatchSpecifier;
  return s.case === 'stringMatch' && s.value.matchPattern.case === 'exact' ? s.value.matchPattern.value : undefined;
}
function summary(r: Route): string {
  const m = r.match!;
  const prefix = m.pathSpecifier.case === 'prefix' ? m.pathSpecifier.value : '?';
  const headers = m.headers.map((h) => `${h.name}=${headerValue(h)}`).join('&');
  let target = '';
  if (r.action.case === 'route') {
    const cs = r.action.value.clusterSpecifier;
    target = cs.case === 'cluster' ? cs.value : cs.case === 'weightedClusters' ? cs.value.clusters.map((c) => `${c.name}:${c.weight}`).join(',') : '?';
  } else if (r.action.case === 'directResponse') target = `direct ${r.action.value.status}`;
  return `${prefix} [${headers}] -> ${target}`;
}

describe('gateway routes', () => {
  it('orders pins, then model-header routes, then dedicated prefixes, then the 404 catch-all', () => {
    const s = gatewayRoutes().map(summary);
    expect(s).toEqual([
      '/v2/models/chat/ [x-meshward-model-version=v1] -> model|chat|v1',
      '/v2/models/chat/ [x-meshward-model-version=v2] -> model|chat|v2',
      '/v1/ [x-meshward-model=gpt-4o-mini&x-meshward-model-version=v1] -> model|chat|v1',
      '/v1/ [x-meshward-model=chat&x-meshward-model-version=v1] -> model|chat|v1',
      '/v1/ [x-meshward-model=gpt-4o-mini&x-meshward-model-version=v2] -> model|chat|v2',
      '/v1/ [x-meshward-model=chat&x-meshward-model-version=v2] -> model|chat|v2',
      '/ [x-meshward-model=embed&x-meshward-model-version=v1] -> model|embed|v1',
      '/ [x-meshward-model=grpc-echo&x-meshward-model-version=a] -> model|grpc-echo|a',
      '/ [x-meshward-model=grpc-echo&x-meshward-model-version=b] -> model|grpc-echo|b',
      '/v1/ [x-meshward-model=gpt-4o-mini] -> model|chat|v1:90,model|chat|v2:10',
      '/v1/ [x-meshward-model=chat] -> model|chat|v1:90,model|chat|v2:10',
      '/ [x-meshward-model=embed] -> model|embed|v1',
      '/ [x-meshward-model=grpc-echo] -> model|grpc-echo|a:50,model|grpc-echo|b:50',
      '/v2/models/chat/ [] -> model|chat|v1:90,model|chat|v2:10',
      '? [:method=GET] -> direct 200',
      '/ [] -> direct 404',
    ]);
  });

  it('leaves weight-0 versions out of the split but keeps their pin', () => {
    const m = sampleModel();
    const chat = m.models[0]!;
    const shifted = { ...m, models: [{ ...chat, versions: [{ ...chat.versions[0]!, weight: 100 }, { ...chat.versions[1]!, weight: 0 }] }, ...m.models.slice(1)] };
    const s = gatewayRoutes(shifted).map(summary);
    expect(s).toContain('/v1/ [x-meshward-model=chat] -> model|chat|v1:100');
    expect(s).toContain('/v1/ [x-meshward-model=chat&x-meshward-model-version=v2] -> model|chat|v2');
  });

  it('carries timeouts and retries from the model, defaults otherwise', () => {
    const routes = gatewayRoutes();
    const chat = routes.find((r) => r.name === 'chat|model|0')!;
    if (chat.action.case !== 'route') throw new Error('not a route');
    const a = chat.action.value;
    expect(durationMs(a.timeout!)).toBe(120_000);
    expect(durationMs(a.idleTimeout!)).toBe(60_000);
    expect(a.retryPolicy!.retryOn).toBe('connect-failure,retriable-status-codes');
    expect(a.retryPolicy!.numRetries).toBe(3);
    expect(durationMs(a.retryPolicy!.perTryTimeout!)).toBe(20_000);
    expect(a.retryPolicy!.retriableStatusCodes).toEqual([503]);
    const embed = routes.find((r) => r.name === 'embed|model|0')!;
    if (embed.action.case !== 'route') throw new Error('not a route');
    expect(durationMs(embed.action.value.timeout!)).toBe(300_000);
    expect(embed.action.value.retryPolicy!.retryOn).toBe('connect-failure,refused-stream,unavailable,cancelled,reset-before-request');
    expect(embed.action.value.retryPolicy!.numRetries).toBe(2);
    expect(embed.action.value.idleTimeout).toBeUndefined();
  });

  it('drops the retry policy when attempts is 0', () => {
    const m = sampleModel();
    const noRetry = { ...m, models: m.models.map((x) => (x.name === 'embed' ? { ...x, retries: { attempts: 0 } } : x)) };
    const embed = gatewayRoutes(noRetry).find((r) => r.name === 'embed|model|0')!;
    expect(embed.action.case === 'route' && embed.action.value.retryPolicy).toBe(undefined);
  });

  it('enables the model-scoped DLP filter and the rate limit on the model routes only', () => {
    const routes = gatewayRoutes();
    const chat = routes.find((r) => r.name === 'chat|model|0')!;
    expect(Object.keys(chat.typedPerFilterConfig).sort()).toEqual(['envoy.filters.http.local_ratelimit', 'meshward.dlp.chat']);
    const enable = anyUnpack(chat.typedPerFilterConfig['meshward.dlp.chat']!, FilterConfigSchema)!;
    expect(enable.disabled).toBe(false);
    // Envoy: a FilterConfig without `config` is a NACK; an empty Any enables the filter.
    expect(enable.config).toBeDefined();
    expect(enable.config!.typeUrl).toBe('');
    const rl = anyUnpack(chat.typedPerFilterConfig['envoy.filters.http.local_ratelimit']!, LocalRateLimitSchema)!;
    expect(rl.statPrefix).toBe('meshward_ratelimit_chat-limit');
    const embed = routes.find((r) => r.name === 'embed|model|0')!;
    expect(Object.keys(embed.typedPerFilterConfig)).toEqual([]);
  });

  it('answers unknown models with an OpenAI-style 404 and skips DLP scanning there', () => {
    const last = gatewayRoutes().at(-1)!;
    expect(last.action.case).toBe('directResponse');
    if (last.action.case !== 'directResponse') return;
    const body = last.action.value.body!.specifier;
    expect(body.case === 'inlineString' && JSON.parse(body.value)).toMatchObject({ error: { code: 'model_not_found' } });
    expect(JSON.parse(NO_MODEL_BODY).error.type).toBe('invalid_request_error');
    const off = anyUnpack(last.typedPerFilterConfig['meshward.dlp']!, FilterConfigSchema)!;
    expect(off.disabled).toBe(true);
  });

  it('answers GET /v1/models with the exposed model names, OpenAI style', () => {
    const list = gatewayRoutes().find((r) => r.name === 'model_list')!;
    expect(list.match!.pathSpecifier).toEqual({ case: 'path', value: '/v1/models' });
    if (list.action.case !== 'directResponse') throw new Error('not direct');
    const body = list.action.value.body!.specifier;
    const parsed = body.case === 'inlineString' ? JSON.parse(body.value) : undefined;
    expect(parsed.object).toBe('list');
    expect(parsed.data.map((d: { id: string }) => d.id)).toEqual(['chat', 'embed', 'gpt-4o-mini', 'grpc-echo']);
    expect(list.responseHeadersToAdd[0]!.header).toMatchObject({ key: 'content-type', value: 'application/json' });
    expect(list.responseHeadersToAdd[0]!.appendAction).toBe(HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD);
  });

  it('builds a config for a gateway exposing no model (only the list and the 404)', () => {
    const rc = gatewayRouteConfiguration('gateway|1', { model: sampleModel(), services: [] });
    expect(rc.virtualHosts[0]!.routes.map(summary)).toEqual(['? [:method=GET] -> direct 200', '/ [] -> direct 404']);
  });
});

describe('sidecar and proxyless routes', () => {
  it('sends everything to the local app with the served model policies', () => {
    const r = translateAll(sampleModel(), { role: 'sidecar', workload: 'models/chat-v1' }, { now });
    const routes = r.routes[0]!.virtualHosts[0]!.routes;
    expect(routes.map(summary)).toEqual(['/ [] -> inbound|8000|app']);
    expect(Object.keys(routes[0]!.typedPerFilterConfig).sort()).toEqual(['envoy.filters.http.local_ratelimit', 'meshward.dlp.chat']);
  });

  it('pins then splits for a proxyless client', () => {
    const rc = proxylessRouteConfiguration(sampleModel().models[2]!);
    expect(rc.name).toBe('proxyless|grpc-echo');
    expect(rc.virtualHosts[0]!.routes.map(summary)).toEqual([
      '/ [x-meshward-model-version=a] -> model|grpc-echo|a',
      '/ [x-meshward-model-version=b] -> model|grpc-echo|b',
      '/ [] -> model|grpc-echo|a:50,model|grpc-echo|b:50',
    ]);
  });
});
