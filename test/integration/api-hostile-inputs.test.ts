import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { routesOf } from '../../src/http/app';
import { signStandardWebhook } from '../../src/platforms/generic/standard-webhooks';
import { seededRandom as seeded } from '../../src/shared/seeded-random';
import {
  ADMIN_TOKEN,
  buyerMessage,
  eventually,
  type Harness,
  startHarness,
} from '../support/harness';
import {
  exampleOf,
  type HostileRequest,
  hostileRequests,
  type JsonSchema,
  type OperationShape,
} from '../support/hostile-requests';

/**
 * Every operation /openapi.json lists, sent hostile requests with valid credentials for the
 * role it needs: the answer is a 4xx in the documented envelope (never a 5xx, a stack trace,
 * a path or the input echoed back), it comes, and the service stays ready. The operation list
 * is the service's own document, so a new endpoint is covered without editing this file.
 */

type Role = 'public' | 'operator' | 'agent' | 'widget' | 'webhook';

/** How an operation is authenticated, by its path; an operation matching none fails the test. */
const ROLE_RULES: Array<{ match: RegExp; role: Role }> = [
  { match: /^\/(healthz|readyz|metrics|openapi\.json|widget\.js)$/, role: 'public' },
  { match: /^\/webhooks\/\{platform\}\/\{shopId\}$/, role: 'webhook' },
  { match: /^\/v1\/widget\/\{widgetKey\}\/\w+$/, role: 'widget' },
  { match: /^\/v1\/agent\//, role: 'agent' },
  { match: /^\/v1\//, role: 'operator' },
];

const STORE = 'https://store.example';
/** A request that has not answered by then counts as a hang. */
const ANSWER_WITHIN_MS = 5000;
/** An error answer is short: a code and a message, never a long echo of the input. */
const MAX_ERROR_BYTES = 4096;
/** What must never be in an answer: stack frames, source paths, raw exception names. */
const LEAK =
  /\n\s+at |node_modules|\/work\/|\/src\/|\.ts:\d+|\.js:\d+|(Syntax|Type|Range|Reference)Error|ECONNREFUSED|ERR_[A-Z_]+/;

let h: Harness;
let port: number;
const fx = {} as {
  shopA: { id: string; ownerKey: string; webhookSecret: string };
  shopB: { id: string; ownerKey: string; webhookSecret: string; name: string };
  victimShop: { id: string };
  agentA: { id: string; token: string };
  agentB: { id: string; token: string };
  victimAgent: { id: string };
  victimOperator: { id: string };
  supervisor: { id: string; token: string };
  web: { id: string; widgetKey: string; session: string };
  otherWeb: { id: string; widgetKey: string; session: string };
  convA: string;
  convB: string;
};
let operations: Array<
  OperationShape & { role: Role | undefined; security?: Array<Record<string, string[]>> }
> = [];
let ipCounter = 0;

beforeAll(async () => {
  h = await startHarness({ env: { TRUST_PROXY: 'true' } });
  port = Number(new URL(h.url).port);
  const shopA = await h.createGenericShop({ name: 'Tenant A' });
  const shopB = await h.createGenericShop({ name: 'Tenant B private name' });
  fx.shopA = shopA;
  fx.shopB = { ...shopB, name: 'Tenant B private name' };
  fx.victimShop = await h.createGenericShop({ name: 'Victim of destructive operations' });
  const agent = async (name: string, shopIds: string[]) => {
    const res = await h.api('/v1/agents', { body: { name, shopIds } });
    expect(res.status).toBe(201);
    return res.body as { id: string; token: string };
  };
  fx.agentA = await agent('Agent A', [shopA.id]);
  fx.agentB = await agent('Agent B', [shopB.id]);
  fx.victimAgent = await agent('Victim agent', [fx.victimShop.id]);
  const operator = await h.api('/v1/operators', { body: { name: 'Victim', role: 'supervisor' } });
  expect(operator.status).toBe(201);
  fx.victimOperator = operator.body;
  const supervisor = await h.api('/v1/operators', { body: { name: 'Mei', role: 'supervisor' } });
  expect(supervisor.status).toBe(201);
  fx.supervisor = supervisor.body;
  const webShop = async (name: string) => {
    const res = await h.api('/v1/shops', {
      body: { name, platform: 'web', credentials: { allowedOrigins: [STORE] } },
    });
    expect(res.status).toBe(201);
    const session = await h.api(`/v1/widget/${res.body.widgetKey}/session`, {
      token: '',
      body: {},
      headers: { origin: STORE, 'x-forwarded-for': nextIp() },
    });
    expect(session.status).toBe(201);
    return { id: res.body.id, widgetKey: res.body.widgetKey, session: session.body.token };
  };
  fx.web = await webShop('Web A');
  fx.otherWeb = await webShop('Web B');
  // A conversation in each tenant, seen by that tenant's agent.
  await h.setPresence(fx.agentA.token, 'online');
  await h.setPresence(fx.agentB.token, 'online');
  expect(
    (await h.sendGeneric(shopA, buyerMessage('buyer-a', 'hi from A', Date.now()))).status,
  ).toBe(200);
  expect(
    (await h.sendGeneric(shopB, buyerMessage('buyer-b', 'hi from B', Date.now()))).status,
  ).toBe(200);
  fx.convA = conversationId(shopA.id, 'buyer-a');
  fx.convB = conversationId(shopB.id, 'buyer-b');
  await eventually(
    async () =>
      (await h.api(`/v1/agent/conversations/${fx.convA}`, { token: fx.agentA.token })).status ===
      200,
  );
  await eventually(
    async () =>
      (await h.api(`/v1/agent/conversations/${fx.convB}`, { token: fx.agentB.token })).status ===
      200,
  );

  const doc = (await h.api('/openapi.json', { token: '' })).body as {
    paths: Record<
      string,
      Record<
        string,
        {
          parameters?: Array<{ name: string; in: string; schema: JsonSchema }>;
          requestBody?: { content: Record<string, { schema: JsonSchema }> };
          security?: Array<Record<string, string[]>>;
        }
      >
    >;
  };
  operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method,
      path,
      pathParams: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!),
      query: (op.parameters ?? []).filter((p) => p.in === 'query'),
      body: op.requestBody?.content['application/json']?.schema,
      security: op.security,
      role: ROLE_RULES.find((r) => r.match.test(path))?.role,
    })),
  );
}, 60_000);
afterAll(() => h.close());

function nextIp(): string {
  ipCounter += 1;
  return `198.51.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
}

/** The valid value of a path parameter for an operation (the victim's for destructive ones). */
function validParam(name: string, role: Role | undefined): string {
  switch (name) {
    case 'shopId':
      return role === 'webhook' ? fx.shopA.id : fx.victimShop.id;
    case 'platform':
      return 'generic';
    case 'agentId':
      return fx.victimAgent.id;
    case 'operatorId':
      return fx.victimOperator.id;
    case 'conversationId':
      return fx.convA;
    case 'widgetKey':
      return fx.web.widgetKey;
    case 'month':
      return '2026-10';
    case 'queue':
      return 'inbound';
    default:
      return `${name}_1`;
  }
}

/** The operation's example body, with real ids where the example cannot know them. */
function validBody(op: OperationShape): unknown {
  const body = exampleOf(op.body!, op.body!) as Record<string, unknown>;
  if ('toAgentId' in body) body.toAgentId = fx.agentB.id;
  return body;
}

function validAuthorization(role: Role | undefined): string | undefined {
  if (role === 'operator') return `Bearer ${ADMIN_TOKEN}`;
  if (role === 'agent') return `Bearer ${fx.agentA.token}`;
  if (role === 'widget') return `Bearer ${fx.web.session}`;
  return undefined;
}

/** Wrong credentials for the role: none, malformed, another tenant's. */
function hostileAuth(op: OperationShape & { role: Role | undefined }): HostileRequest[] {
  const base = { path: op.path, expect: 'reject' as const };
  const body = op.body ? '{}' : undefined;
  const contentType = op.body ? 'application/json' : undefined;
  if (op.role === 'operator' || op.role === 'agent')
    return [
      { label: 'auth none', authorization: null },
      { label: 'auth "Bearer"', authorization: 'Bearer' },
      { label: 'auth Basic', authorization: 'Basic YWRtaW46YWRtaW4=' },
      { label: 'auth two tokens', authorization: `Bearer ${ADMIN_TOKEN} ${ADMIN_TOKEN}` },
      { label: 'auth 6,000 chars', authorization: `Bearer ${'x'.repeat(6000)}` },
      { label: 'auth token without scheme', authorization: ADMIN_TOKEN },
      { label: 'auth non-ASCII', authorization: 'Bearer t\u00e9st\u00ff' },
    ].map((r) => ({ ...base, ...r, body, contentType }));
  // The session is what a page asks for first: its credential is the shop's allowed origin.
  if (op.role === 'widget' && op.path.endsWith('/session'))
    return [
      { label: 'widget origin none', headers: { origin: null } },
      { label: 'widget origin not allowed', headers: { origin: 'https://evil.example' } },
      { label: 'widget origin "null"', headers: { origin: 'null' } },
      { label: 'widget origin lookalike', headers: { origin: `${STORE}.evil.example` } },
    ].map((r) => ({ ...base, ...r, body, contentType }));
  if (op.role === 'widget')
    return [
      { label: 'widget session none', authorization: null },
      { label: 'widget session garbage', authorization: 'Bearer wss_garbage' },
      { label: "another shop's widget session", authorization: `Bearer ${fx.otherWeb.session}` },
    ].map((r) => ({ ...base, ...r, body, contentType }));
  if (op.role === 'webhook' && op.method === 'post')
    return [
      { label: 'webhook unsigned', authorization: 'unsigned' },
      { label: 'webhook bad signature', authorization: 'bad-signature' },
      { label: 'webhook stale timestamp', authorization: 'stale' },
      { label: "webhook signed with another shop's secret", authorization: 'other-shop' },
    ].map((r) => ({ ...base, ...r, body: '{"type":"message","data":{}}', contentType }));
  return [];
}

/** Headers a careless client or a proxy sends: all must be survived. */
function oddHeaders(op: OperationShape & { role: Role | undefined }): HostileRequest[] {
  const body = op.body ? JSON.stringify(validBody(op)) : undefined;
  const contentType = op.body ? 'application/json' : undefined;
  const base = { path: op.path, body, contentType, expect: 'survive' as const };
  const odd: Array<Pick<HostileRequest, 'label' | 'headers'>> = [
    { label: 'accept text/csv', headers: { accept: 'text/csv' } },
    { label: 'accept garbage', headers: { accept: ';;;/,*/ *;q=x' } },
    { label: 'accept-language garbage', headers: { 'accept-language': 'zz-ZZZZ;q=2, *;q=-1' } },
    { label: 'x-forwarded-for garbage', headers: { 'x-forwarded-for': 'not-an-ip, %00, ::::' } },
    { label: 'last-event-id garbage', headers: { 'last-event-id': `-1-${'9'.repeat(300)}` } },
    { label: 'idempotency-key 4 KB', headers: { 'idempotency-key': 'k'.repeat(4096) } },
    { label: 'origin garbage', headers: { origin: 'javascript:alert(1)' } },
    { label: 'content-encoding gzip', headers: { 'content-encoding': 'gzip' } },
    { label: 'if-none-match garbage', headers: { 'if-none-match': '"x", W/' } },
  ];
  return odd.map((r) => ({ ...base, ...r }));
}

interface Answer {
  status: number;
  contentType: string;
  text: string;
  ms: number;
}

/** Sends one request on the raw wire: the path is not normalised, headers are as given. */
function send(
  op: OperationShape & { role: Role | undefined },
  r: HostileRequest,
): Promise<Answer | { error: string }> {
  const params = Object.fromEntries(
    op.pathParams.map((n) => [n, encodeURIComponent(validParam(n, op.role))]),
  );
  Object.assign(params, r.pathParams ?? {});
  const path =
    op.path.replace(/\{(\w+)\}/g, (_, name: string) => params[name]!) +
    (r.query ? `?${r.query}` : '');
  const headers: Record<string, string> = { 'x-forwarded-for': nextIp() };
  const body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
  if (body) headers['content-length'] = String(body.length);
  if (r.contentType) headers['content-type'] = r.contentType;
  if (op.role === 'widget') headers.origin = STORE;
  if (op.role === 'webhook' && op.method === 'post') {
    const id = `evt_${ipCounter}`;
    const stale = r.authorization === 'stale';
    const timestamp = Math.floor(Date.now() / 1000) - (stale ? 3600 : 0);
    if (r.authorization !== 'unsigned') {
      headers['webhook-id'] = id;
      headers['webhook-timestamp'] = String(timestamp);
      headers['webhook-signature'] =
        r.authorization === 'bad-signature'
          ? 'v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='
          : signStandardWebhook(
              r.authorization === 'other-shop' ? fx.shopB.webhookSecret : fx.shopA.webhookSecret,
              id,
              timestamp,
              body ?? '',
            );
    }
  } else {
    const authorization =
      r.authorization === undefined ? validAuthorization(op.role) : r.authorization;
    if (authorization) headers.authorization = authorization;
  }
  for (const [name, value] of Object.entries(r.headers ?? {})) {
    if (value === null) delete headers[name];
    else headers[name] = value;
  }
  const started = Date.now();
  return new Promise((resolve) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: op.method.toUpperCase(), path, headers, agent: false },
      (res) => {
        const contentType = String(res.headers['content-type'] ?? '');
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            contentType,
            text: Buffer.concat(chunks).toString('utf8'),
            ms: Date.now() - started,
          });
        };
        // A live stream opened: its status and headers are the answer.
        if (contentType.startsWith('text/event-stream')) {
          req.destroy();
          finish();
          return;
        }
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= 256 * 1024) chunks.push(chunk);
        });
        res.on('end', finish);
        res.on('error', finish);
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ error: `no answer within ${ANSWER_WITHIN_MS} ms` });
    }, ANSWER_WITHIN_MS);
    req.on('error', (error: NodeJS.ErrnoException) => {
      // The server may close an oversized upload after answering; the answer counts.
      if (error.code === 'EPIPE' || error.code === 'ECONNRESET') return;
      clearTimeout(timer);
      resolve({ error: `${error.code ?? ''} ${error.message}` });
    });
    req.end(body);
  });
}

/** What is wrong with an answer, or null when it holds. */
function judge(r: HostileRequest, answer: Answer | { error: string }): string | null {
  if ('error' in answer) return answer.error;
  if (answer.status >= 500) return `${answer.status}: ${answer.text.slice(0, 160)}`;
  if (r.expect === 'reject' && answer.status < 400)
    return `accepted (${answer.status}) an invalid request: ${answer.text.slice(0, 120)}`;
  if (answer.status < 400) return null;
  if (!answer.contentType.startsWith('application/json'))
    return `${answer.status} as ${answer.contentType || 'no content type'}, not the JSON envelope`;
  if (answer.text.length > MAX_ERROR_BYTES)
    return `${answer.status} error of ${answer.text.length} bytes (input echoed?)`;
  if (LEAK.test(answer.text))
    return `${answer.status} leaks internals: ${answer.text.slice(0, 200)}`;
  let body: { error?: { code?: unknown; message?: unknown } };
  try {
    body = JSON.parse(answer.text);
  } catch {
    return `${answer.status} body is not JSON: ${answer.text.slice(0, 80)}`;
  }
  if (typeof body.error?.code !== 'string' || !/^[a-z][a-z0-9_]*$/.test(body.error.code))
    return `${answer.status} without an error code: ${answer.text.slice(0, 120)}`;
  if (typeof body.error.message !== 'string' || !body.error.message)
    return `${answer.status} without an error message`;
  return null;
}

async function runAll(
  jobs: Array<{ op: OperationShape & { role: Role | undefined }; r: HostileRequest }>,
  concurrency = 4,
): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < jobs.length) {
        const { op, r } = jobs[next++]!;
        const problem = judge(r, await send(op, r));
        if (problem)
          failures.push(
            `${op.method.toUpperCase()} ${op.path} [${r.label}${r.query ? ` ?${r.query.slice(0, 40)}` : ''}]: ${problem}`,
          );
      }
    }),
  );
  return failures;
}

describe('tenants kept apart on every operation', () => {
  it("answers shop A's owner on shop B's paths 403/404, never with B's data", async () => {
    const shopPaths = operations.filter(
      (op) => op.pathParams.includes('shopId') && op.role === 'operator',
    );
    expect(shopPaths.length).toBeGreaterThan(10);
    const breaches: string[] = [];
    for (const op of shopPaths) {
      const path = op.path.replace(/\{(\w+)\}/g, (_, n: string) =>
        n === 'shopId' ? fx.shopB.id : validParam(n, op.role),
      );
      const res = await h.api(path, {
        method: op.method.toUpperCase(),
        token: fx.shopA.ownerKey,
        body: op.body ? {} : undefined,
      });
      if (
        ![403, 404].includes(res.status) ||
        res.text.includes(fx.shopB.name) ||
        res.text.includes('buyer-b')
      )
        breaches.push(`${op.method} ${path}: ${res.status} ${res.text.slice(0, 100)}`);
    }
    expect(breaches).toEqual([]);
    // The same owner reaches their own shop: the refusals above are about the tenant.
    expect((await h.api(`/v1/shops/${fx.shopA.id}`, { token: fx.shopA.ownerKey })).status).toBe(
      200,
    );
  });

  it("answers agent A on shop B's conversation 403/404 on every conversation operation", async () => {
    const convPaths = operations.filter(
      (op) => op.pathParams.includes('conversationId') && op.role === 'agent',
    );
    expect(convPaths.length).toBeGreaterThan(5);
    const breaches: string[] = [];
    for (const op of convPaths) {
      const path = op.path.replace(/\{(\w+)\}/g, (_, n: string) =>
        n === 'conversationId' ? fx.convB : validParam(n, op.role),
      );
      const res = await h.api(path, {
        method: op.method.toUpperCase(),
        token: fx.agentA.token,
        body: op.body ? validBody(op) : undefined,
      });
      if (![403, 404].includes(res.status) || res.text.includes('hi from B'))
        breaches.push(`${op.method} ${path}: ${res.status} ${res.text.slice(0, 100)}`);
    }
    expect(breaches).toEqual([]);
    const list = await h.api('/v1/agent/conversations', { token: fx.agentA.token });
    expect(list.status).toBe(200);
    expect(list.text).toContain(fx.convA);
    expect(list.text).not.toContain(fx.convB);
  });

  it('keeps each kind of token to its own doors', async () => {
    const crossings: string[] = [];
    const wrongTokens = [
      {
        name: 'owner key',
        token: fx.shopA.ownerKey,
        refused: (op: (typeof operations)[number]) => op.role === 'agent',
      },
      {
        name: 'widget session',
        token: fx.web.session,
        refused: (op: (typeof operations)[number]) => op.role === 'agent' || op.role === 'operator',
      },
      {
        name: 'agent token',
        token: fx.agentA.token,
        refused: (op: (typeof operations)[number]) =>
          op.role === 'operator' &&
          !op.pathParams.includes('shopId') &&
          !['/v1/me', '/v1/assist/suggest'].includes(op.path),
      },
    ];
    for (const wrong of wrongTokens)
      for (const op of operations.filter(wrong.refused)) {
        const path = op.path.replace(/\{(\w+)\}/g, (_, n: string) => validParam(n, op.role));
        const res = await h.api(path, {
          method: op.method.toUpperCase(),
          token: wrong.token,
          body: op.body ? validBody(op) : undefined,
        });
        if (![401, 403, 404].includes(res.status))
          crossings.push(
            `${wrong.name} on ${op.method} ${op.path}: ${res.status} ${res.text.slice(0, 80)}`,
          );
      }
    expect(crossings).toEqual([]);
  });

  it("refuses one widget's session on another shop's widget", async () => {
    const widgetOps = operations.filter(
      (op) => op.role === 'widget' && !op.path.endsWith('/session'),
    );
    expect(widgetOps.length).toBeGreaterThan(2);
    for (const op of widgetOps) {
      const res = await h.api(op.path.replace('{widgetKey}', fx.otherWeb.widgetKey), {
        method: op.method.toUpperCase(),
        token: fx.web.session,
        body: op.body ? { text: 'hello' } : undefined,
        headers: { origin: STORE, 'x-forwarded-for': nextIp() },
      });
      expect([401, 403, 404], `${op.method} ${op.path}`).toContain(res.status);
    }
  });
});

describe('every operation in /openapi.json against hostile input', () => {
  it('knows how to authenticate every operation, and its credentials are accepted', async () => {
    expect(operations.length).toBeGreaterThan(50);
    const unknown = operations.filter((op) => !op.role).map((op) => `${op.method} ${op.path}`);
    expect(unknown, 'operations this test cannot authenticate: add a rule').toEqual([]);
    // The rules agree with the credential the document declares for each operation.
    const declared = (op: (typeof operations)[number]) =>
      (op.security ?? []).flatMap((s) => Object.keys(s)).join() || 'none';
    const expected: Record<Role, string[]> = {
      public: ['none'],
      operator: ['bearer'],
      agent: ['bearer'],
      widget: ['widgetSession', 'none'],
      webhook: ['platformSignature', 'none'],
    };
    expect(
      operations
        .filter((op) => !expected[op.role!].includes(declared(op)))
        .map((op) => `${op.method} ${op.path}: ${op.role} but ${declared(op)}`),
    ).toEqual([]);
    const refused: string[] = [];
    for (const op of operations) {
      const answer = await send(op, {
        label: 'valid credentials',
        path: op.path,
        body: op.body ? '{}' : undefined,
        contentType: op.body ? 'application/json' : undefined,
        expect: 'survive',
      });
      if ('error' in answer || answer.status === 401 || answer.status === 403)
        refused.push(
          `${op.method} ${op.path}: ${'error' in answer ? answer.error : answer.status}`,
        );
    }
    expect(refused).toEqual([]);
  });

  it('answers every hostile request with a 4xx in the error envelope, in time', async () => {
    const random = seeded(20261129);
    const jobs = operations.flatMap((op) => [
      ...hostileAuth(op).map((r) => ({ op, r })),
      ...hostileRequests(op, random).map((r) => ({ op, r })),
      ...oddHeaders(op).map((r) => ({ op, r })),
    ]);
    expect(jobs.length).toBeGreaterThan(operations.length * 10);
    const failures = await runAll(jobs);
    expect(failures).toEqual([]);
  }, 120_000);

  it('answers the same for the other roles an operation admits (owner, supervisor, agent)', async () => {
    const random = seeded(112920);
    const personas = [
      { name: 'owner', authorization: `Bearer ${fx.shopA.ownerKey}`, shopId: fx.shopA.id },
      { name: 'supervisor', authorization: `Bearer ${fx.supervisor.token}`, shopId: undefined },
      { name: 'agent', authorization: `Bearer ${fx.agentA.token}`, shopId: fx.shopA.id },
    ];
    const jobs: Array<{ op: (typeof operations)[number]; r: HostileRequest }> = [];
    for (const op of operations.filter((o) => o.role === 'operator'))
      for (const persona of personas) {
        const as = (r: HostileRequest): HostileRequest => ({
          ...r,
          label: `${persona.name}: ${r.label}`,
          authorization: persona.authorization,
          pathParams: {
            ...(persona.shopId && op.pathParams.includes('shopId')
              ? { shopId: persona.shopId }
              : {}),
            ...r.pathParams,
          },
        });
        // Only where the role is let in: a refusal is the tenancy tests' business.
        const probe = await send(
          op,
          as({
            label: 'probe',
            path: op.path,
            body: op.body ? JSON.stringify(validBody(op)) : undefined,
            contentType: op.body ? 'application/json' : undefined,
            expect: 'survive',
          }),
        );
        if ('error' in probe || [401, 403, 404].includes(probe.status)) continue;
        for (const r of hostileRequests(op, random, 6)) jobs.push({ op, r: as(r) });
      }
    expect(new Set(jobs.map((j) => j.r.label.split(':')[0])).size).toBe(personas.length);
    const failures = await runAll(jobs);
    expect(failures).toEqual([]);
  }, 120_000);

  it('still reads everything it stored from hostile input, and stays ready', async () => {
    const reads = operations.filter((op) => op.method === 'get');
    const failures = await runAll(
      reads.map((op) => ({
        op,
        r: { label: 'read after the sweep', path: op.path, expect: 'survive' as const },
      })),
    );
    expect(failures).toEqual([]);
    expect((await h.api('/readyz', { token: '' })).status).toBe(200);
  });
});

/** Writes raw bytes on a fresh connection and reads until the server closes it (or 5 s). */
function rawExchange(bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(done, ANSWER_WITHIN_MS);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', done);
    socket.on('error', done);
    socket.on('close', done);
    socket.write(bytes, 'latin1');
  });
}

describe('HTTP that is not HTTP', () => {
  it('answers requests Node cannot parse with a 4xx in the error envelope too', async () => {
    const requests = {
      'headers over 16 KB': `GET /v1/shops HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      'a URL over 16 KB': `GET /v1/shops?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      'a control character in the path': 'GET /v1/\x01shops HTTP/1.1\r\nHost: x\r\n\r\n',
      'Content-Length and Transfer-Encoding both (smuggling)':
        'POST /v1/shops HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'a Content-Length that is not a number':
        'POST /v1/shops HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
      'a header name with a space': 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n',
      'a broken chunk':
        'POST /v1/shops HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
      'not HTTP at all': 'HELLO THERE\r\n\r\n',
      'an unknown HTTP version': 'GET /healthz HTTP/7.3\r\nHost: x\r\n\r\n',
    };
    const problems: string[] = [];
    for (const [label, bytes] of Object.entries(requests)) {
      const answer = await rawExchange(bytes);
      const [head = '', body = ''] = answer.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
      let code: unknown;
      try {
        code = JSON.parse(body).error?.code;
      } catch {
        code = undefined;
      }
      if (
        !(status >= 400 && status < 500) ||
        !/content-type: application\/json/i.test(head) ||
        typeof code !== 'string'
      )
        problems.push(`${label}: ${JSON.stringify(answer.slice(0, 160))}`);
    }
    expect(problems).toEqual([]);
    expect((await h.api('/readyz', { token: '' })).status).toBe(200);
  });
});

describe('methods and spellings no client should use', () => {
  it('answers undocumented methods and odd spellings of every path without a 5xx, errors enveloped', async () => {
    const byPath = new Map<string, (typeof operations)[number]>();
    for (const op of operations) byPath.set(op.path, op);
    const jobs: Array<{ op: (typeof operations)[number]; r: HostileRequest }> = [];
    for (const [path, op] of byPath) {
      const documented = operations.filter((o) => o.path === path).map((o) => o.method);
      for (const method of [
        'get',
        'post',
        'put',
        'patch',
        'delete',
        'options',
        'trace',
        'propfind',
      ])
        if (!documented.includes(method))
          jobs.push({
            op: { ...op, method },
            r: {
              label: `method ${method}`,
              path,
              expect: method === 'options' ? 'survive' : 'reject',
            },
          });
      for (const [label, spelled] of [
        ['trailing slash', `${path}/`],
        [
          'double slash',
          path.lastIndexOf('/') > 0 ? path.replace(/\/(?=[^/]*$)/, '//') : `${path}//`,
        ],
        ['upper case', path.toUpperCase().replace(/\{(\w+)\}/gi, (m) => m.toLowerCase())],
        ['matrix parameter', `${path};jsessionid=1`],
        ['dot segment', `/.${path}`],
        ['encoded dot segment', `/%2e${path}`],
      ] as const)
        jobs.push({ op: { ...op, path: spelled }, r: { label, path: spelled, expect: 'survive' } });
    }
    const failures = await runAll(jobs);
    expect(failures).toEqual([]);
  });

  it('never echoes a long path back in full', async () => {
    const long = `/${'a'.repeat(12_000)}`;
    const problems: string[] = [];
    for (const [method, path] of [
      ['GET', `/v1${long}`],
      ['GET', long],
      ['TRACE', `/v1/shops${long}`],
      ['DELETE', `/healthz${long}`],
    ] as const) {
      const res = await h.api(path, { method, token: '' });
      if (res.status < 400 || res.status >= 500 || res.text.length > MAX_ERROR_BYTES)
        problems.push(`${method} ${path.slice(0, 20)}…: ${res.status}, ${res.text.length} bytes`);
    }
    expect(problems).toEqual([]);
  });

  it('serves the pages only their own files, whatever the name asked for', async () => {
    const pages = routesOf(h.container.createHttp()).filter((r) => r.page && r.path.includes('{'));
    expect(pages.length).toBeGreaterThan(2);
    const problems: string[] = [];
    for (const page of pages)
      for (const name of [
        '..%2F..%2Fpackage.json',
        '..%2Fapp%2Fcontainer.ts',
        '%00',
        '%ZZ',
        'x'.repeat(300),
        '__proto__',
        'constructor',
        'hasOwnProperty',
      ]) {
        const res = await h.api(page.path.replace(/\{\w+\}/, name), { token: '' });
        if (
          res.status !== 404 ||
          res.body?.error?.code !== 'not_found' ||
          res.text.includes('"dependencies"')
        )
          problems.push(`${page.path} ${name}: ${res.status} ${res.text.slice(0, 80)}`);
      }
    expect(problems).toEqual([]);
  });
});
