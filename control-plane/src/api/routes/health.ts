import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { ApiContext } from '../api-context.js';
import { ApiError } from '../problem.js';

/**
 * /healthz (process alive), /readyz (store usable and the caller's readiness check passes) — the
 * only endpoints without a token, and they reveal nothing but ok/not ok — and /metrics
 * (Prometheus text; needs a viewer token: Prometheus sends one with `authorization.credentials`).
 */
export function healthRoutes(
  app: FastifyInstance,
  ctx: ApiContext,
  opts: { metricsRegistries: readonly Registry[]; notReadyReason: (() => string | undefined) | undefined },
): void {
  const Status = Type.Object({ status: Type.String() }, { additionalProperties: false });
  app.get('/healthz', { config: { access: 'public' }, schema: { tags: ['health'], response: { 200: Status } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: { access: 'public' }, schema: { tags: ['health'], response: { 200: Status } } }, async () => {
    try {
      void ctx.store.snapshot();
    } catch {
      throw new ApiError('UNAVAILABLE', 'the store is not available');
    }
    const reason = opts.notReadyReason?.();
    if (reason !== undefined) throw new ApiError('UNAVAILABLE', `not ready: ${reason}`);
    return { status: 'ready' };
  });
  app.get('/metrics', { schema: { tags: ['health'], summary: 'Prometheus metrics (text exposition format)' } }, async (_request, reply) => {
    const registries = [ctx.metrics.registry, ...opts.metricsRegistries];
    const texts = await Promise.all(registries.map((r) => r.metrics()));
    return reply.type(ctx.metrics.registry.contentType).send(texts.map((t) => t.trimEnd()).join('\n') + '\n');
  });
}
