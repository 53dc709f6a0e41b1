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
});
