import Router from '@koa/router';
import Koa from 'koa';
import { auditTrail } from './audit-trail';
import { bearerAuth } from './auth';
import { errorMiddleware } from './error-middleware';
import { principalRateLimit } from './principal-rate-limit';
import { requestContext } from './request-context';
import { agentAdminRoutes } from './routes/agent-admin-routes';
import { deskRoutes } from './routes/desk-routes';
import { operatorRoutes } from './routes/operator-routes';
import { opsAdminRoutes, opsRoutes, probeRoutes } from './routes/ops-routes';
import { shopRoutes } from './routes/shop-routes';
import { webhookRoutes } from './routes/webhook-routes';
import { drainOnShutdown } from './server-limits';
import type { HttpServices } from './services';

/** A route the app serves: its method and its path in OpenAPI form (`/v1/shops/{shopId}`). */
export interface RegisteredRoute {
  method: string;
  path: string;
  /** Public pages and their static assets, served as HTML, not part of the JSON API. */
  page: boolean;
  /** Behind the bearer-token middleware (every /v1 router but the public ones). */
  bearer: boolean;
}

const ROUTES = new WeakMap<Koa, RegisteredRoute[]>();

/** Every route mounted on the app, so a test can hold /openapi.json to the router. */
export function routesOf(app: Koa): RegisteredRoute[] {
  return ROUTES.get(app) ?? [];
}

function describeRoutes(routers: Router[], page: boolean, bearer: boolean): RegisteredRoute[] {
  return routers.flatMap((router) =>
    router.stack.flatMap((layer) =>
      layer.methods
        .filter((m) => m !== 'HEAD')
        .map((method) => ({
          method: method.toLowerCase(),
          path: String(layer.path).replace(/:(\w+)/g, '{$1}'),
          page,
          bearer,
        })),
    ),
  );
}

/**
 * The Koa app: request id and log first, then the one error mapper, then the
 * public routes (ops, pages; webhooks authenticate themselves), then /v1 behind bearer auth.
 */
export function createHttpApp(
  services: HttpServices,
  /** `public`: API routes without bearer auth; `pages`: HTML pages and their assets (not in /openapi.json). */
  routers: { v1?: Router[]; public?: Router[]; pages?: Router[] } = {},
): Koa {
  // Forwarded headers are believed only when the operator says a proxy of theirs sets them:
  // otherwise any stranger could pick the address the failed-verification budget counts.
  // maxIpsCount 1: the client's address is the LAST X-Forwarded-For entry, the one our own
  // proxy appended; the entries before it are whatever the client sent, so counting by the
  // first would let anyone spend another address's failure budget or dodge its own.
  const app = new Koa({ proxy: services.config.TRUST_PROXY, maxIpsCount: 1 });
  app.on('error', (error: NodeJS.ErrnoException) => {
    // An agent closing the console ends its event stream early: expected, not an error.
    if (error.code === 'ERR_STREAM_PREMATURE_CLOSE' || error.code === 'ECONNRESET') return;
    services.logger.warn({ err: error.message }, 'http stream error');
  });
  app.use(requestContext(services.logger));
  app.use(drainOnShutdown(services.draining));
  app.use(errorMiddleware(services.logger));

  // Webhooks first: the busiest route skips the other routers' matching (no paths overlap).
  const apiPublic = [webhookRoutes(services), opsRoutes(services), ...(routers.public ?? [])];
  const publicRouters = [...apiPublic, ...(routers.pages ?? [])];
  for (const router of publicRouters) app.use(router.routes()).use(router.allowedMethods());

  const auth = bearerAuth({
    adminToken: services.adminToken,
    redis: services.redis,
    keys: services.keys,
    agents: services.agents,
    operators: services.operators,
  });
  const v1 = new Router();
  v1.use('/v1', auth);
  v1.use('/v1', principalRateLimit(services.redis, services.keys, services.config));
  v1.use('/v1', auditTrail({ audit: services.audit, logger: services.logger }));
  const v1Routers = [
    shopRoutes(services),
    agentAdminRoutes(services),
    operatorRoutes(services),
    deskRoutes(services),
    opsAdminRoutes(services),
    ...(routers.v1 ?? []),
  ];
  for (const router of v1Routers) {
    v1.use(router.routes(), router.allowedMethods());
  }
  app.use(v1.routes()).use(v1.allowedMethods());
  ROUTES.set(app, [
    ...describeRoutes(apiPublic, false, false),
    ...describeRoutes(v1Routers, false, true),
    ...describeRoutes(routers.pages ?? [], true, false),
  ]);
  return app;
}

/**
 * The app of a worker-only process (`OPS_PORT`): liveness, readiness and metrics, with the
 * API app's request id, log line and error envelope, and nothing else (no webhooks, no /v1).
 */
export function createProbeApp(services: HttpServices): Koa {
  const app = new Koa();
  app.use(requestContext(services.logger));
  app.use(drainOnShutdown(services.draining));
  app.use(errorMiddleware(services.logger));
  const probes = probeRoutes(services);
  app.use(probes.routes()).use(probes.allowedMethods());
  return app;
}
