import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { isTimeZone } from '../shared/shop-calendar';

/**
 * Every setting the service reads, parsed once at start. Nothing else reads
 * process.env. Each variable is documented once, here and in .env.example.
 */
/**
 * An http(s) base URL without a query or fragment, kept without a trailing
 * slash: paths are appended to it (`${base}/webhooks/...`), and `localhost:3000`
 * (no scheme) would otherwise parse as a URL whose scheme is `localhost:`.
 */
const URL_MESSAGE =
  'must be an absolute http(s) URL such as https://example.com, without ?query or #fragment';
const url = z
  .url({ protocol: /^https?$/, message: URL_MESSAGE })
  .refine((value) => !/[?#]/.test(value), { message: URL_MESSAGE })
  .transform((value) => value.replace(/\/+$/, ''));
/**
 * Decimal digits only: a bare Number() reads '' and '  ' as 0 (PORT 0 is a
 * random port, a grace period of 0 none at all) and '0x50' as 80.
 */
const int = (min: number, max: number) =>
  z.preprocess(
    (value) => (typeof value === 'string' && !/^-?\d+$/.test(value) ? Number.NaN : value),
    z.coerce
      .number({ message: 'must be a whole number' })
      .int('must be a whole number')
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`),
  );

const settingsSchema = z.object({
  /** HTTP port. */
  PORT: int(0, 65535).default(3000),
  /** Interface to listen on. */
  HOST: z.string().default('0.0.0.0'),
  /**
   * A worker-only process (`npm run start:worker`) serves /healthz, /readyz and /metrics on
   * this port (and HOST), nothing else; unset, it listens on no port. Ignored by the other
   * roles, whose PORT serves these.
   */
  OPS_PORT: int(0, 65535).optional(),
  /**
   * Redis to use; `npm start` starts an embedded one under DATA_DIR when neither
   * this nor REDIS_CLUSTER_NODES is set.
   */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    // Without a host ioredis quietly connects to localhost:6379.
    .refine((value) => URL.canParse(value) && new URL(value).hostname !== '', {
      message: 'must be redis://[user:password@]host[:port][/db] (or rediss:// for TLS)',
    })
    .optional(),
  /**
   * A Redis Cluster instead of one Redis: some of its nodes (`host:port`,
   * comma-separated); the rest are discovered. REDIS_URL is then not used.
   */
  REDIS_CLUSTER_NODES: z
    .string()
    .transform((value, context) => {
      const nodes = value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean)
        .map((entry) => /^(\[[0-9a-f:]+\]|[^\s:/[\]]+):(\d{1,5})$/i.exec(entry));
      if (
        nodes.length === 0 ||
        nodes.some((match) => !match || Number(match[2]) < 1 || Number(match[2]) > 65535)
      ) {
        context.addIssue({
          code: 'custom',
          message: 'must be host:port seed nodes separated by commas',
        });
        return z.NEVER;
      }
      return nodes.map((match) => ({
        host: match![1]!.replace(/^\[|\]$/g, ''),
        port: Number(match![2]),
      }));
    })
    .optional(),
  /**
   * Partitions of the inbound queue, by shop: each is its own queue (its own
   * slot on a Cluster), so ingest spreads over the nodes. Change it only with
   * the inbound queue drained (see docs/architecture.md).
   */
  INBOUND_PARTITIONS: int(1, 256).default(1),
  /** Prefix of every Redis key, so several deployments (or test files) can share a Redis. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[a-z0-9_-]+$/i, 'letters, digits, _ and - only')
    .default('sm'),
  /** Where generated secrets (admin token, secrets key) and the embedded Redis live. */
  DATA_DIR: z.string().min(1).default('./data'),
  /** Operator token; generated, stored under DATA_DIR and printed at start when unset. */
  ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  /** Key that encrypts platform secrets at rest; generated under DATA_DIR when unset. */
  SECRETS_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Public URL of this service, used to show shops their webhook URL. */
  PUBLIC_BASE_URL: url.optional(),
  /** Enables the OpenAI engine; unset means the rules engine only. */
  OPENAI_API_KEY: z.string().optional(),
  /** Any OpenAI-compatible endpoint (DeepSeek, Qwen, a local server...). */
  OPENAI_BASE_URL: url.optional(),
  /** Model name sent to the endpoint. */
  OPENAI_MODEL: z.string().default('gpt-4o-mini'),
  /** After this, the rules engine answers instead of the model. */
  ASSIST_TIMEOUT_MS: int(100, 60_000).default(4000),
  /**
   * Draft suggestions on a thread of their own, not on the main thread that moves messages:
   * `auto` (the default) does so when the machine has a second core to run it on
   * (docs/architecture.md, "Round seventeen").
   */
  ASSIST_THREAD: z
    .enum(['auto', 'true', 'false', '1', '0', ''], { message: 'must be auto, true or false' })
    .default('auto')
    .transform((value) =>
      value === 'auto' || value === ''
        ? availableParallelism() > 1
        : value === 'true' || value === '1',
    ),
  /** Send API bases, so the same code runs against the real hosts or a stand-in. */
  META_GRAPH_API_BASE: url.default('https://graph.facebook.com/v21.0'),
  LINE_API_BASE: url.default('https://api.line.me'),
  WECHAT_API_BASE: url.default('https://api.weixin.qq.com'),
  TELEGRAM_API_BASE: url.default('https://api.telegram.org'),
  /** LINE serves message content (images, video, audio, files) from its own data host. */
  LINE_DATA_API_BASE: url.default('https://api-data.line.me'),
  /** Largest buyer media the agents' media proxy passes on (Telegram bots may fetch 20 MB at most). */
  MEDIA_MAX_BYTES: int(1024, 100 * 1024 * 1024).default(20 * 1024 * 1024),
  /** One media fetch (platform lookups and the download) must finish within this. */
  MEDIA_TIMEOUT_MS: int(1000, 120_000).default(20_000),
  /** Bytes of recently proxied media one API process keeps in memory (0 = no cache). */
  MEDIA_CACHE_BYTES: int(0, 1024 * 1024 * 1024).default(32 * 1024 * 1024),
  /** Media fetches one API process runs at once; one more answers 503. */
  MEDIA_CONCURRENT_FETCHES: int(1, 1000).default(8),
  /** Webhook events allowed per shop per minute before 429 (a delivery within it is taken whole). */
  WEBHOOK_RATE_PER_MINUTE: int(1, 1_000_000).default(600),
  /**
   * Webhook events per shop per minute served first-come first-served; a shop's
   * events past this share queue behind every other shop's share (fairness).
   */
  WEBHOOK_FAIR_SHARE_PER_MINUTE: int(1, 1_000_000).default(60),
  /**
   * On one Redis, least ms between two ingest calls of the inbound queue: a
   * steady stream of webhooks goes a few per call (less CPU per message), a
   * webhook after a quiet spell at once. 0 sends every event-loop turn's.
   */
  INGEST_CALL_SPACING_MS: int(0, 2_000).default(5),
  /** Failed webhook verifications per client address and shop per minute before 429 (ten times this per address). */
  WEBHOOK_FAILED_VERIFICATIONS_PER_MINUTE: int(1, 1_000_000).default(20),
  /** Trust X-Forwarded-For (client address) and X-Forwarded-Proto: only behind a reverse proxy you run. */
  TRUST_PROXY: z
    .enum(['true', 'false', '1', '0', ''], { message: 'must be true or false' })
    .default('false')
    .transform((value) => value === 'true' || value === '1'),
  /** A request's headers must arrive within this (slow-header connections). */
  HTTP_HEADERS_TIMEOUT_MS: int(1000, 300_000).default(10_000),
  /** A whole request (headers and body) must arrive within this. */
  HTTP_REQUEST_TIMEOUT_MS: int(1000, 600_000).default(30_000),
  /** An idle keep-alive connection is closed after this. */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: int(100, 600_000).default(5000),
  /** Open connections one API process accepts; past it new ones are dropped at once. */
  HTTP_MAX_CONNECTIONS: int(1, 1_000_000).default(4096),
  /**
   * Bytes of request bodies one process buffers at once, all requests together (each body is
   * also capped on its own); past it a body is refused with 503 and Retry-After. At least the
   * largest platform cap (4 MiB), so one whole WhatsApp batch always fits.
   */
  HTTP_MAX_BUFFERED_BODY_BYTES: int(4 * 1024 * 1024, 4 * 1024 * 1024 * 1024).default(
    64 * 1024 * 1024,
  ),
  /**
   * Hosts a reply URL or API base may reach over plain http and on private or
   * loopback addresses: development stand-ins only. Comma-separated names;
   * `.test` matches a whole domain. Empty in production.
   */
  OUTBOUND_DEV_HOSTS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((host) => host.trim())
        .filter(Boolean),
    ),
  /** An outbound connection (reply URL, platform API) must be made within this. */
  OUTBOUND_CONNECT_TIMEOUT_MS: int(100, 60_000).default(3000),
  /** Replies one shop may have in flight at once across all workers (a slow shop keeps the rest free). */
  OUTBOUND_SENDS_PER_SHOP: int(1, 1000).default(4),
  /** Suggestions (POST /v1/assist/suggest) one agent or owner token may ask for per minute. */
  ASSIST_SUGGESTS_PER_MINUTE: int(1, 1_000_000).default(30),
  /** Replies one agent may send per minute. */
  AGENT_REPLIES_PER_MINUTE: int(1, 1_000_000).default(60),
  /** Media (GET /v1/agent/conversations/:id/media/:messageId) one agent may fetch per minute. */
  AGENT_MEDIA_PER_MINUTE: int(1, 1_000_000).default(120),
  /** Reads (usage, audit, invoices, dashboard) one owner key may make per minute. */
  OWNER_READS_PER_MINUTE: int(1, 1_000_000).default(300),
  /** A conversation (history, state, suggestions) is deleted this many days after its last activity. */
  CONVERSATION_RETENTION_DAYS: int(1, 3650).default(90),
  /** Live (active) conversations one shop keeps listed; past it the quietest leave the list. */
  SHOP_MAX_LIVE_CONVERSATIONS: int(1, 10_000_000).default(20_000),
  /** Jobs a worker process runs at once. */
  WORKER_CONCURRENCY: int(1, 1000).default(16),
  /** Tries to deliver one agent reply before it ends as failed. */
  OUTBOUND_ATTEMPTS: int(1, 50).default(6),
  /** First retry delay for replies; doubles each try (2 s, 4 s, 8 s...). */
  OUTBOUND_BACKOFF_MS: int(1, 600_000).default(2000),
  /** Open conversations one agent is offered at most. */
  AGENT_MAX_OPEN_CONVERSATIONS: int(1, 10_000).default(20),
  /** An answered conversation with no new message for this long closes itself and frees its agent. */
  CONVERSATION_IDLE_SECONDS: int(1, 7 * 86_400).default(1800),
  /**
   * A conversation nobody answered closes itself this many hours after the buyer's last message.
   * 24: WhatsApp's and Messenger's reply windows close then, and a message this late is stale.
   */
  UNANSWERED_CLOSE_AFTER_HOURS: int(1, 90 * 24).default(24),
  /** Seconds between SSE heartbeats to agents, so proxies keep the stream open. */
  SSE_HEARTBEAT_SECONDS: int(1, 300).default(15),
  /** An agent whose event streams have all been closed this long is offline: no new buyers, waiting ones handed over. */
  AGENT_OFFLINE_AFTER_SECONDS: int(1, 86_400).default(60),
  /** Event streams one agent may hold open at once (tabs, devices); one more answers 429. */
  AGENT_MAX_STREAMS: int(1, 100).default(5),
  /** Event streams one API process serves at once; one more answers 503. */
  SSE_MAX_STREAMS_PER_PROCESS: int(1, 1_000_000).default(2000),
  /** A buyer message arriving this long after it was sent is history: stored and metered, never a live waiting buyer. */
  STALE_MESSAGE_HOURS: int(1, 24 * 365).default(24),
  /** After a generic shop's webhook secret is rotated, the previous one still verifies this long (the sender switches later). */
  WEBHOOK_SECRET_GRACE_HOURS: int(0, 24 * 90).default(24),
  /** Operators' audit log entries older than this are trimmed as new ones arrive. */
  AUDIT_RETENTION_DAYS: int(1, 3650).default(400),
  /** Time zone the operator's month-close schedule runs in. */
  BILLING_TIMEZONE: z
    .string()
    .refine(isTimeZone, 'must be an IANA time zone such as Asia/Shanghai')
    .default('Asia/Shanghai'),
  /** pino level. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** One Redis or one Cluster, never neither: `npm start` fills REDIS_URL with its embedded Redis. */
export const configSchema = settingsSchema.superRefine((config, context) => {
  if (config.REDIS_URL === undefined && config.REDIS_CLUSTER_NODES === undefined)
    context.addIssue({
      code: 'custom',
      path: ['REDIS_URL'],
      message:
        'is required unless REDIS_CLUSTER_NODES is set (npm start sets it to its embedded Redis when both are unset)',
    });
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Settings whose value is never printed, not even when it is refused. */
const SECRET_NAMES = new Set(['ADMIN_TOKEN', 'SECRETS_KEY', 'OPENAI_API_KEY']);

/**
 * A URL as it may be printed: its password (everything from the user's ':' to
 * the last '@', so one holding '/' or '@' is hidden whole) replaced by ***.
 */
export function withoutPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:).*@/i, '$1***@');
}

/** What a problem line shows of a value: secrets by their length only, a URL's password masked. */
function shown(name: string, value: string | undefined): string {
  if (value === undefined) return 'unset';
  if (SECRET_NAMES.has(name)) return `got ${value.length} characters, not shown`;
  return `got ${JSON.stringify(withoutPassword(value))}`;
}

/**
 * Taken byte for byte: SECRETS_KEY derives the key that sealed the stored
 * credentials, and one mounted with its trailing newline has always been used
 * with it, so trimming it now would lose them.
 */
const EXACT_NAMES = new Set(['SECRETS_KEY']);

/**
 * Parses the environment; throws ConfigError naming each bad variable. An
 * empty value is unset (as in .env.example). Spaces or a newline around a
 * setting are dropped (a token sent in a header or a URL never holds them),
 * except around SECRETS_KEY (EXACT_NAMES).
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const given: Record<string, string | undefined> = {};
  for (const name of Object.keys(settingsSchema.shape)) {
    const value = EXACT_NAMES.has(name) ? env[name] : env[name]?.trim();
    if (value !== undefined && value !== '') given[name] = value;
  }
  const result = configSchema.safeParse(given);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '?');
      return `${name}: ${issue.message} (${shown(name, given[name])})`;
    }),
  );
}
