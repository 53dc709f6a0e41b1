import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routesOf } from '../../src/http/app';
import { type Harness, startHarness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ workers: false });
});
afterAll(() => h.close());

describe('/openapi.json', () => {
  it('describes every API route the app serves, and nothing it does not', async () => {
    const routes = routesOf(h.container.createHttp()).filter((r) => !r.page);
    expect(routes.length).toBeGreaterThan(20);
    const doc = (await h.api('/openapi.json', { token: '' })).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    // Parameter names may differ between router and document; their places may not.
    const shape = (method: string, path: string) => `${method} ${path.replace(/\{\w+\}/g, '{}')}`;
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => shape(method, path)),
    );
    // CORS preflight answers (OPTIONS) are not operations.
    const served = [
      ...new Set(routes.filter((r) => r.method !== 'options').map((r) => shape(r.method, r.path))),
    ];
    expect(served.filter((r) => !documented.includes(r))).toEqual([]);
    expect(documented.filter((r) => !served.includes(r))).toEqual([]);
  });

  it('says which operations need a bearer token exactly as the router puts them behind one', async () => {
    const routes = routesOf(h.container.createHttp()).filter(
      (r) => !r.page && r.method !== 'options',
    );
    const doc = (await h.api('/openapi.json', { token: '' })).body as {
      paths: Record<string, Record<string, { security?: Array<Record<string, string[]>> }>>;
    };
    const shape = (path: string) => path.replace(/\{\w+\}/g, '{}');
    const mismatched = routes.flatMap((route) => {
      const [, ops] =
        Object.entries(doc.paths).find(([path]) => shape(path) === shape(route.path)) ?? [];
      const security = ops?.[route.method]?.security;
      const saysBearer = security?.some((s) => 'bearer' in s) ?? false;
      return security === undefined || saysBearer !== route.bearer
        ? [
            `${route.method} ${route.path}: router ${route.bearer}, document ${JSON.stringify(security)}`,
          ]
        : [];
    });
    expect(mismatched).toEqual([]);
    // Without a credential: the probes answer, a bearer operation is 401.
    expect((await h.api('/healthz', { token: '' })).status).toBe(200);
    expect((await h.api('/v1/desk', { token: '' })).status).toBe(401);
  });
});
