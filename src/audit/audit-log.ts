import type { Clock } from '../shared/clock';
import type { RedisConnection, RedisKeys } from '../shared/redis';

export interface AuditActor {
  /** `owner` for the desk owner's ADMIN_TOKEN, else the operator's id */
  id: string;
  name: string;
  role: string;
}

export interface AuditEntry {
  id: string;
  /** ISO instant */
  at: string;
  actor: AuditActor;
  /** what was done, e.g. `shop.update`, `agent.token.reissue`, `billing.close` */
  action: string;
  shopId: string | null;
  /** every shop concerned (an agent serves several); `shopId` is the first */
  shops: string[];
  /** the id acted on when it is not the shop: an agent, an operator, a job */
  target: string | null;
  /** what changed (field names, plan, month...), never a secret */
  details: Record<string, unknown>;
}

/** Keys whose values are never written, whatever a caller passes. */
const SECRET_KEY = /(secret|token|password|hash|key)$|^credentials$/i;
/** Values shaped like Seatmate's own secrets (owner keys, agent and operator tokens, webhook secrets). */
const SECRET_VALUE = /^(own|agt|opr|adm)_[\w-]{16,}|^whsec_/;
const REDACTED = '[redacted]';

/** A deep copy with every secret-looking key or value replaced: the log never holds a secret. */
export function redact(value: unknown, key = ''): unknown {
  if (key && SECRET_KEY.test(key) && value !== null && typeof value !== 'boolean') return REDACTED;
  if (typeof value === 'string') return SECRET_VALUE.test(value) ? REDACTED : value;
  if (Array.isArray(value)) return value.map((item) => redact(item));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  return value;
}

/**
 * The operators' audit log: append-only, one sorted set scored by the
 * (injected) clock, so a time range is one ZRANGEBYSCORE. Entries older than
 * the retention are trimmed as new ones arrive; nothing else edits it.
 */
export class AuditLog {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly clock: Clock,
    private readonly retentionDays: number,
  ) {}

  private get key(): string {
    return this.keys.auditLog();
  }

  async record(input: {
    actor: AuditActor;
    action: string;
    shops?: string[];
    target?: string | null;
    details?: Record<string, unknown>;
  }): Promise<AuditEntry> {
    const now = this.clock.now();
    // A sequence, so entries of one millisecond keep their order (the set orders ties by member).
    const seq = await this.redis.incr(this.keys.auditSequence());
    const shops = [...new Set(input.shops ?? [])];
    const entry: AuditEntry = {
      id: `aud_${String(seq).padStart(12, '0')}`,
      at: new Date(now).toISOString(),
      actor: input.actor,
      action: input.action,
      shopId: shops[0] ?? null,
      shops,
      target: input.target ?? null,
      details: redact(input.details ?? {}) as Record<string, unknown>,
    };
    await this.redis
      .multi()
      .zadd(this.key, now, JSON.stringify(entry))
      .zremrangebyscore(this.key, '-inf', `(${now - this.retentionDays * 86_400_000}`)
      .exec();
    return entry;
  }

  /** Entries in [fromMs, toMs), newest first, filtered by shop and actor. */
  async query(filter: {
    fromMs: number;
    toMs: number;
    shopId?: string;
    actor?: string;
    limit: number;
  }): Promise<AuditEntry[]> {
    const raw = await this.redis.zrevrangebyscore(this.key, `(${filter.toMs}`, filter.fromMs);
    const out: AuditEntry[] = [];
    for (const item of raw) {
      const entry = JSON.parse(item) as AuditEntry;
      if (filter.shopId && !entry.shops.includes(filter.shopId)) continue;
      if (filter.actor && entry.actor.id !== filter.actor) continue;
      out.push(entry);
      if (out.length >= filter.limit) break;
    }
    return out;
  }
}
