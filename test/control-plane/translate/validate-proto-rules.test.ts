/** validateProtoRules really finds violations of Envoy's PGV rules (so the round-trip check can fail). */
import { describe, expect, it } from 'vitest';
import { clone, create } from '@bufbuild/protobuf';
import { AnySchema, anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import { RBACSchema } from '../../../control-plane/src/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { sampleModel } from '../model/fixtures.js';
import { envoyRegistry, translateAll, validateProtoRules } from '../../../control-plane/src/translate/index.js';
import { RouteConfigurationSchema } from '../../../control-plane/src/gen/envoy/config/route/v3/route_pb.js';
import { ListenerSchema } from '../../../control-plane/src/gen/envoy/config/listener/v3/listener_pb.js';
import { LocalRateLimitSchema } from '../../../control-plane/src/gen/envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit_pb.js';
import { HttpConnectionManagerSchema } from '../../../control-plane/src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';

const now = new Date('2026-11-25T10:00:00Z');
const res = () => translateAll(sampleModel(), { role: 'gateway', workload: 'gw/edge' }, { now });

describe('validateProtoRules', () => {
  it('finds min_items, required oneof and header-name violations in a route configuration', () => {
    const rc = clone(RouteConfigurationSchema, res().routes[0]!);
    const vh = rc.virtualHosts[0]!;
    vh.domains = [];
    vh.routes[0]!.match!.pathSpecifier = { case: undefined };
    vh.routes[0]!.match!.headers[0]!.name = 'bad\nheader';
    const v = validateProtoRules(RouteConfigurationSchema, rc, envoyRegistry);
    expect(v).toContain('virtual_hosts[0].domains: needs at least 1 item(s), has 0');
    expect(v).toContain('virtual_hosts[0].routes[0].match.path_specifier: one of prefix, path, safe_regex, connect_matcher, path_separated_prefix, path_match_policy is required');
    expect(v).toContain("virtual_hosts[0].routes[0].match.headers[0].name: 'bad\nheader' is not a valid HTTP header name");
  });

  it('looks inside packed Anys (per-route local rate limit with a zero bucket)', () => {
    const rc = clone(RouteConfigurationSchema, res().routes[0]!);
    const route = rc.virtualHosts[0]!.routes.find((r) => r.name === 'chat|model|0')!;
    const key = 'envoy.filters.http.local_ratelimit';
    const rl = anyUnpack(route.typedPerFilterConfig[key]!, LocalRateLimitSchema)!;
    rl.tokenBucket!.maxTokens = 0;
    rl.statPrefix = '';
    route.typedPerFilterConfig[key] = anyPack(LocalRateLimitSchema, rl);
    const v = validateProtoRules(RouteConfigurationSchema, rc, envoyRegistry);
    const prefix = `virtual_hosts[0].routes[${rc.virtualHosts[0]!.routes.indexOf(route)}].typed_per_filter_config[${key}](envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit).`;
    expect(v).toContain(`${prefix}token_bucket.max_tokens: 0 must be > 0`);
    expect(v).toContain(`${prefix}stat_prefix: must be at least 1 character(s)`);
  });

  it('reports an Any of an unknown type and an RBAC policy without principals', () => {
    const l = clone(ListenerSchema, res().listeners[0]!);
    const f = l.filterChains[0]!.filters[0]!;
    if (f.configType.case !== 'typedConfig') throw new Error('no hcm');
    const hcm = anyUnpack(f.configType.value, HttpConnectionManagerSchema)!;
    hcm.httpFilters[1]!.configType = { case: 'typedConfig', value: create(AnySchema, { typeUrl: 'type.googleapis.com/envoy.nope.Nope' }) };
    const rbacCt = hcm.httpFilters[0]!.configType;
    if (rbacCt.case !== 'typedConfig') throw new Error('no rbac');
    const rbac = anyUnpack(rbacCt.value, RBACSchema)!;
    rbac.rules!.policies['apps-infer#0']!.principals = [];
    rbacCt.value = anyPack(RBACSchema, rbac);
    f.configType.value = anyPack(HttpConnectionManagerSchema, hcm);
    const v = validateProtoRules(ListenerSchema, l, envoyRegistry);
    const hcmPath = 'filter_chains[0].filters[0].typed_config(envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager).';
    expect(v).toContain(`${hcmPath}http_filters[1].typed_config: type type.googleapis.com/envoy.nope.Nope is unknown`);
    expect(v).toContain(`${hcmPath}http_filters[0].typed_config(envoy.extensions.filters.http.rbac.v3.RBAC).rules.policies[apps-infer#0].principals: needs at least 1 item(s), has 0`);
  });
});
