import type { RedisConnection, RedisKeys } from '../shared/redis';
import { type LiveEventData, type LiveEventType, shopsOfEvent } from './live-events';

export interface AgentEvent {
  /** Redis stream id: the SSE event id an agent resumes from. */
  id: string;
  type: LiveEventType | 'reset';
  data: Record<string, unknown>;
  /**
   * The data as the stream holds it (publishTo's JSON), for an event read from Redis: a
   * stream writes it as it is, and reads its shop from it, instead of parsing and writing
   * it again (about 13 µs for a suggestion, on the thread that serves every stream).
   */
  raw?: string;
}

/** Events kept per agent for resuming; about a working hour of a busy seat. */
const STREAM_LENGTH = 2000;

/**
 * Live events for agents, through Redis so every API instance sees them: a
 * shop event is appended to the stream of each agent serving that shop, so an
 * agent's stream only ever holds their own shops' events. Every publisher is
 * typed by the one event map in live-events.ts.
 */
export class AgentEvents {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly agentsOfShop: (shopId: string) => Promise<string[]>,
  ) {}

  /** One hash tag for every agent stream, so one XREAD can read them all (also on a Cluster). */
  streamKey(agentId: string): string {
    return this.keys.agentEvents(agentId);
  }

  /**
   * A shop's event, to every agent serving the shop. `agentIds`: the shop's
   * agents when the caller has just read them (a job publishing several
   * events reads them once).
   */
  async publish<K extends Exclude<LiveEventType, 'presence'>>(
    shopId: string,
    type: K,
    data: LiveEventData<K>,
    agentIds?: string[],
  ): Promise<void> {
    await this.publishTo(agentIds ?? (await this.agentsOfShop(shopId)), type, { shopId, ...data });
  }

  /** An event to the named agents only (presence goes to the colleagues of every shop). */
  async publishTo<K extends LiveEventType>(
    agentIds: string[],
    type: K,
    data: Record<string, unknown>,
  ): Promise<void> {
    const agents = [...new Set(agentIds)];
    if (agents.length === 0) return;
    const payload = JSON.stringify(data);
    // Plain commands, not a pipeline of their own: on the batched connections every store uses
    // (`batchWrites`), they join whatever else the job sends in the same tick (one write).
    await Promise.all(
      agents.map((agentId) =>
        this.redis.xadd(
          this.streamKey(agentId),
          'MAXLEN',
          '~',
          STREAM_LENGTH,
          '*',
          'type',
          type,
          'data',
          payload,
        ),
      ),
    );
  }

  /** Events after `afterId` (exclusive), oldest first. */
  async since(agentId: string, afterId: string, count = 500): Promise<AgentEvent[]> {
    const entries = await this.redis.xrange(
      this.streamKey(agentId),
      `(${afterId}`,
      '+',
      'COUNT',
      count,
    );
    return entries.map(toEvent);
  }

  /** Whether events after `afterId` may have been trimmed away (the resume point is older than the oldest kept). */
  async gapAfter(agentId: string, afterId: string): Promise<boolean> {
    const [oldest] = await this.redis.xrange(this.streamKey(agentId), '-', '+', 'COUNT', 1);
    if (!oldest) return false;
    return compareIds(afterId, oldest[0]) < 0;
  }

  /** The id of the newest event, so a fresh subscriber starts after it. */
  async latestId(agentId: string): Promise<string> {
    const [last] = await this.redis.xrevrange(this.streamKey(agentId), '+', '-', 'COUNT', 1);
    return last?.[0] ?? '0-0';
  }

  /**
   * Deletes the agent's kept events of shops they no longer serve, so a
   * replay from `0-0` cannot read them. Returns how many were deleted.
   */
  async dropShops(agentId: string, shopIds: string[]): Promise<number> {
    if (shopIds.length === 0) return 0;
    const removed = new Set(shopIds);
    const key = this.streamKey(agentId);
    let deleted = 0;
    let cursor = '-';
    for (;;) {
      const entries = await this.redis.xrange(key, cursor, '+', 'COUNT', 500);
      if (entries.length === 0) break;
      const doomed = entries
        .map(toEvent)
        .filter((e) => shopsOf(e).some((s) => removed.has(s)))
        .map((e) => e.id);
      if (doomed.length > 0) deleted += await this.redis.xdel(key, ...doomed);
      if (entries.length < 500) break;
      cursor = `(${entries.at(-1)![0]}`;
    }
    return deleted;
  }
}

/** The largest part of a Redis stream id (both halves are unsigned 64-bit). */
const MAX_ID_PART = 18_446_744_073_709_551_615n;

/** A well-formed Redis stream id (`ms-seq`) that Redis accepts in XRANGE. */
export function isStreamId(id: string): boolean {
  const match = /^(\d{1,20})-(\d{1,20})$/.exec(id);
  return match !== null && BigInt(match[1]!) <= MAX_ID_PART && BigInt(match[2]!) <= MAX_ID_PART;
}

/** Orders two Redis stream ids (`ms-seq`). */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am !== bm ? am - bm : as - bs;
}

/** An event as read from a stream; its data is parsed only when something reads it. */
export function toEvent([id, fields]: [string, string[]]): AgentEvent {
  const record: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!;
  const raw = record.data ?? '{}';
  let data: Record<string, unknown> | undefined;
  return {
    id,
    type: record.type as LiveEventType,
    raw,
    get data() {
      data ??= JSON.parse(raw) as Record<string, unknown>;
      return data;
    },
  };
}

const SHOP_FIRST = '{"shopId":"';
/**
 * The shops an event concerns. publishTo writes a shop's event with its shop first, so a
 * stored event's shop is read off the start of its JSON; any other shape is parsed.
 */
export function shopsOf(event: AgentEvent): string[] {
  const { raw } = event;
  if (raw?.startsWith(SHOP_FIRST)) {
    const end = raw.indexOf('"', SHOP_FIRST.length);
    const shopId = raw.slice(SHOP_FIRST.length, end);
    // An escaped character would end the read early: parse such an id instead.
    if (end > 0 && !shopId.includes('\\')) return [shopId];
  }
  return shopsOfEvent(event.data);
}

/** The data line of an event's SSE frame: the stored JSON as it is, when it can be. */
export function dataLine(event: AgentEvent): string {
  // JSON.stringify never writes a line break; a stored text that holds one would end the frame.
  return event.raw !== undefined && !event.raw.includes('\n')
    ? event.raw
    : JSON.stringify(event.data);
}
