import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, loadConfig } from '../../src/config/config';
import { type Harness, startHarness } from '../support/harness';

// The examples a first-time operator copies from the README and docs/, run
// against a real service: a body the service refuses, a field renamed in the
// code, or a signing snippet that no longer verifies fails here.

const read = (file: string) => fs.readFileSync(file, 'utf8');

/** The shell commands of a Markdown file's ```sh / ```bash blocks, one per command line. */
function shellCommands(markdown: string): string[] {
  const commands: string[] = [];
  for (const block of markdown.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)) {
    let current = '';
    let quote: string | null = null;
    const text = (block[1] ?? '').replace(/^\s*#.*$/gm, '');
    for (let i = 0; i < text.length; i++) {
      const ch = text[i] as string;
      if (quote) {
        if (ch === quote) quote = null;
        current += ch;
      } else if (ch === "'" || ch === '"') {
        quote = ch;
        current += ch;
      } else if (ch === '\\' && text[i + 1] === '\n') {
        i++;
        current += ' ';
      } else if (ch === '\n') {
        if (current.trim()) commands.push(current.trim());
        current = '';
      } else current += ch;
    }
    if (current.trim()) commands.push(current.trim());
  }
  return commands;
}

/** Splits a command into words, dropping the quotes (no expansion). */
function words(command: string): string[] {
  const out: string[] = [];
  for (const m of command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g))
    out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}

interface CurlCall {
  method: string;
  path: string;
  body?: string;
  /** The shell variable holding the bearer token (`TOKEN`, `ADMIN`, ...). */
  token?: string;
}

/** The curl calls to this service's /v1 API in a Markdown file. */
function apiCalls(markdown: string): CurlCall[] {
  return shellCommands(markdown)
    .filter((c) => c.startsWith('curl '))
    .map((command) => {
      const w = words(command);
      const at = (flag: string) => {
        const i = w.indexOf(flag);
        return i >= 0 ? w[i + 1] : undefined;
      };
      const body = at('-d') ?? at('--data-raw');
      const url = w.find((x) => x.includes('/v1/')) ?? '';
      const token = /Bearer \$(\w+)/.exec(command)?.[1];
      return {
        method: at('-X') ?? (body ? 'POST' : 'GET'),
        path: url.slice(url.indexOf('/v1/')),
        ...(body ? { body } : {}),
        ...(token ? { token } : {}),
      };
    })
    .filter((c) => c.path.startsWith('/v1/'));
}

/** The ```json blocks of one `## ` section of a Markdown file. */
function jsonBlocks(markdown: string, heading: string): unknown[] {
  const start = markdown.indexOf(`\n## ${heading}`);
  expect(start, `section "${heading}"`).toBeGreaterThan(0);
  const end = markdown.indexOf('\n## ', start + 1);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1] ?? ''));
}

let h: Harness;
beforeAll(async () => {
  // The README's reply URL is a local bridge, allowed as the README says (OUTBOUND_DEV_HOSTS=localhost).
  h = await startHarness({
    workers: false,
    env: { OUTBOUND_DEV_HOSTS: 'localhost,127.0.0.1,.test' },
  });
});
afterAll(() => h.close());

/** Runs a documented call with its placeholders filled in (`token`: for an agent's `$TOKEN`). */
async function run(call: CurlCall, shopId?: string, token?: string) {
  const fill = (text: string) => (shopId ? text.replaceAll('shp_…', shopId) : text);
  const path = fill(call.path).replace(/\$SHOP_ID\b|\$SHOP\b/g, shopId ?? '');
  return h.api(path, {
    method: call.method,
    ...(token ? { token } : {}),
    ...(call.body === undefined ? {} : { body: fill(call.body) }),
  });
}

describe('README quick start', () => {
  it('creates the shop and the agent exactly as shown', async () => {
    const calls = apiCalls(read('README.md')).filter((c) => c.method === 'POST');
    const createShop = calls.find((c) => c.path === '/v1/shops');
    const createAgent = calls.find((c) => c.path === '/v1/agents');
    expect(createShop && createAgent).toBeTruthy();
    const shop = await run(createShop as CurlCall);
    expect(shop.status, shop.text).toBe(201);
    expect(shop.body.webhookSecret).toMatch(/^whsec_/);
    expect(shop.body.ownerKey).toMatch(/^own_/);
    const agent = await run(createAgent as CurlCall, shop.body.id);
    expect(agent.status, agent.text).toBe(201);
    expect(agent.body.token).toMatch(/^agt_/);
  });
});

describe('docs/operators.md and docs/agents.md', () => {
  it("the operator's calls are accepted as written", async () => {
    const created = await run(
      apiCalls(read('docs/operators.md')).find((c) => c.path === '/v1/operators') as CurlCall,
    );
    expect(created.status, created.text).toBe(201);
    expect(created.body.token).toMatch(/^opr_/);

    const shop = await h.createGenericShop();
    const operatorCalls = apiCalls(read('docs/agents.md')).filter((c) => c.token === 'ADMIN');
    expect(operatorCalls.length).toBeGreaterThanOrEqual(3);
    for (const call of operatorCalls) {
      const res = await run(call, shop.id);
      expect(
        res.status,
        `${call.method} ${call.path} ${call.body ?? ''} → ${res.text}`,
      ).toBeLessThan(300);
    }
  });

  it("the agent's calls that need no conversation are accepted as written", async () => {
    const shop = await h.createGenericShop();
    const agent = await h.api('/v1/agents', { body: { name: '林晓', shopIds: [shop.id] } });
    const calls = apiCalls(read('docs/agents.md')).filter(
      (c) =>
        c.token === 'TOKEN' && !/\$(CNV|REPLY)\b/.test(c.path) && c.path !== '/v1/agent/events',
    );
    expect(calls.length).toBeGreaterThanOrEqual(4);
    for (const call of calls) {
      const res = await run(call, shop.id, agent.body.token);
      expect(
        res.status,
        `${call.method} ${call.path} ${call.body ?? ''} → ${res.text}`,
      ).toBeLessThan(300);
    }
  });
});

describe('docs/widget.md', () => {
  it("creates the web shop of 'Connect a shop' and answers its snippet", async () => {
    const [create] = apiCalls(read('docs/widget.md')).filter((c) => c.path === '/v1/shops');
    const shop = await run(create as CurlCall);
    expect(shop.status, shop.text).toBe(201);
    expect(shop.body.widgetKey).toMatch(/^wgt_/);
    expect(shop.body.snippet).toContain(`data-seatmate-key="${shop.body.widgetKey}"`);
  });
});

describe('docs/platforms.md', () => {
  const doc = read('docs/platforms.md');

  it('every shop it creates and every credentials change it shows is accepted', async () => {
    const calls = apiCalls(doc).filter((c) => c.path.startsWith('/v1/shops'));
    const creates = calls.filter((c) => c.method === 'POST' && c.path === '/v1/shops');
    const patches = calls.filter((c) => c.method === 'PATCH');
    expect(creates.length).toBeGreaterThanOrEqual(2);
    expect(patches.length).toBeGreaterThanOrEqual(1);
    const created = [];
    for (const create of creates) {
      const shop = await run(create);
      expect(shop.status, `${create.body} → ${shop.text}`).toBe(201);
      created.push(shop.body);
    }
    // The credentials change is shown on the LINE shop the same page creates.
    const line = created.find((shop) => shop.platform === 'line');
    for (const patch of patches) {
      const changed = await run(patch, line?.id);
      expect(changed.status, `${patch.body} → ${changed.text}`).toBe(200);
    }
  });

  it.each([
    ['WhatsApp (Cloud API)', 'whatsapp'],
    ['Facebook Messenger', 'messenger'],
    ['LINE (Messaging API)', 'line'],
    ['WeChat Official Account (公众号)', 'wechat'],
    ['Telegram', 'telegram'],
  ])('the credentials shown under "%s" create a %s shop', async (heading, platform) => {
    const examples = jsonBlocks(doc, heading).filter(
      (b): b is { credentials: Record<string, string> } =>
        typeof b === 'object' && b !== null && 'credentials' in b,
    );
    expect(examples).toHaveLength(1);
    const shop = await h.api('/v1/shops', {
      body: { name: `${platform} shop`, platform, ...examples[0] },
    });
    expect(shop.status, shop.text).toBe(201);
  });

  it("Telegram's setWebhook registers the same secret the shop was saved with", () => {
    const [saved] = jsonBlocks(doc, 'Telegram') as Array<{ credentials: { secretToken: string } }>;
    const setWebhook = shellCommands(doc).find((c) => c.includes('/setWebhook'));
    const registered = words(setWebhook ?? '')
      .find((w) => w.startsWith('secret_token='))
      ?.slice('secret_token='.length);
    expect(registered).toBe(saved?.credentials.secretToken);
  });

  it('the curl + openssl signing snippet reproduces the test vector and is accepted', async () => {
    const snippet = shellCommands(doc);
    const at = snippet.findIndex((c) => c.startsWith("SECRET='whsec_"));
    expect(at).toBeGreaterThanOrEqual(0);
    const lines = snippet.slice(at, at + 6);
    expect(lines.at(-1)).toMatch(/^curl -X POST "\$PUBLIC_BASE_URL\/webhooks\/generic\/\$SHOP_ID"/);
    // Asynchronous: the service answering the snippet's curl runs in this process.
    const bash = async (script: string, env: Record<string, string>) =>
      (
        await promisify(execFile)('bash', ['-c', script], {
          env: { ...process.env, ...env },
          encoding: 'utf8',
          timeout: 20_000,
        })
      ).stdout;

    // Its signing lines, on the vector the doc quotes: the Standard Webhooks specification's
    // published test vector (a public example, not anyone's secret).
    const signing = lines.filter((l) => /^(KEY_HEX|SIG)=/.test(l)).join('\n');
    const vector = await bash(
      `SECRET='whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'; ID='msg_p5jXN8AQM9LWM0D4loKWxJek'; TS=1614265330; BODY='{"test": 2432232314}'\n${signing}\nprintf 'v1,%s' "$SIG"`,
      {},
    );
    expect(vector).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');

    // The whole snippet against a real shop: only the secret is the shop's own.
    const shop = await h.createGenericShop();
    const script = lines
      .map((l) => (l.startsWith('SECRET=') ? `SECRET='${shop.webhookSecret}'` : l))
      .join('\n')
      .replace(/^curl /m, 'curl -s ');
    const answer = await bash(script, { PUBLIC_BASE_URL: h.url, SHOP_ID: shop.id });
    expect(JSON.parse(answer)).toEqual({ ok: true, queued: 1, duplicates: 0 });
  });

  it('the Node forwarding example is accepted', async () => {
    const code = doc.match(/```js\n([\s\S]*?)```/)?.[1] ?? '';
    expect(code).toContain('export async function forward');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seatmate-doc-'));
    const file = path.join(dir, 'forward.mjs');
    fs.writeFileSync(file, code);
    const shop = await h.createGenericShop();
    const before = process.env.SEATMATE_WEBHOOK_SECRET;
    process.env.SEATMATE_WEBHOOK_SECRET = shop.webhookSecret;
    try {
      const { forward } = await import(pathToFileURL(file).href);
      await forward(`${h.url}/webhooks/generic/${shop.id}`, {
        messageId: 'tb-88812',
        buyer: { id: 'tb_buyer_42', name: '小王' },
        from: 'buyer',
        text: '这个有红色的吗？',
        sentAt: new Date().toISOString(),
      });
    } finally {
      if (before === undefined) delete process.env.SEATMATE_WEBHOOK_SECRET;
      else process.env.SEATMATE_WEBHOOK_SECRET = before;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('settings and scripts the docs name', () => {
  const docs = ['README.md', ...fs.readdirSync('docs').map((f) => `docs/${f}`)].filter((f) =>
    f.endsWith('.md'),
  );
  const envExample = read('.env.example');
  const listed = new Set([...envExample.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));

  it('.env.example lists every setting the service reads', () => {
    const settings = Object.keys(configSchema.shape);
    expect(settings.length).toBeGreaterThan(40);
    expect(settings.filter((name) => !listed.has(name))).toEqual([]);
  });

  it('the defaults .env.example shows are the defaults the service uses', () => {
    const shown = Object.fromEntries(
      [...envExample.matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1], m[2]]),
    );
    // EMBEDDED_REDIS_PORT is npm start's own (scripts/start.mjs), not the service's.
    delete shown.EMBEDDED_REDIS_PORT;
    const redis = { REDIS_URL: 'redis://127.0.0.1:6390' };
    expect(loadConfig({ ...shown, ...redis })).toEqual(loadConfig(redis));
  });

  it('every `npm run` in the README and docs/ is a script of package.json', () => {
    const scripts = Object.keys(JSON.parse(read('package.json')).scripts);
    const named = docs.flatMap((f) => [...read(f).matchAll(/npm run ([a-z][\w:-]*)/g)]);
    expect(named.length).toBeGreaterThan(5);
    expect(named.map((m) => m[1] ?? '').filter((name) => !scripts.includes(name))).toEqual([]);
  });
});
