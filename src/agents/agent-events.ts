import type { Redis } from 'ioredis';
import type { RedisKeys } from '../shared/redis';

export type AgentEventType = 'message' | 'suggestion' | 'conversation' | 'alert' | 'reply';

export interface AgentEvent {
  /** Redis stream id: the SSE event id an agent resumes from. */
  id: string;
  type: AgentEventType;
  data: Record<string, unknown>;
}

/** Events kept per agent for resuming; about a working hour of a busy seat. */
const STREAM_LENGTH = 2000;

/**
 * Live events for agents, through Redis so every API instance sees them: a
 * shop event is appended to the stream of each agent serving that shop, so an
 * agent's stream only ever holds their own shops' events.
 */
export class AgentEvents {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly agentsOfShop: (shopId: string) => Promise<string[]>,
  ) {}

  streamKey(agentId: string): string {
    return this.keys.agentEvents(agentId);
  }

  async publish(
    shopId: string,
    type: AgentEventType,
    data: Record<string, unknown>,
  ): Promise<void> {
    const agents = await this.agentsOfShop(shopId);
    if (agents.length === 0) return;
    const payload = JSON.stringify({ shopId, ...data });
    const pipeline = this.redis.pipeline();
    for (const agentId of agents)
      pipeline.xadd(
        this.streamKey(agentId),
        'MAXLEN',
        '~',
        STREAM_LENGTH,
        '*',
        'type',
        type,
        'data',
        payload,
      );
    await pipeline.exec();
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
    const [ms, seq] = afterId.split('-').map(Number) as [number, number];
    const [oldMs, oldSeq] = oldest[0].split('-').map(Number) as [number, number];
    // Resuming from before the oldest kept event: what lay between may be gone.
    return ms < oldMs || (ms === oldMs && seq < oldSeq);
  }

  /** The id of the newest event, so a fresh subscriber starts after it. */
  async latestId(agentId: string): Promise<string> {
    const [last] = await this.redis.xrevrange(this.streamKey(agentId), '+', '-', 'COUNT', 1);
    return last?.[0] ?? '0-0';
  }

  /** Blocks on a dedicated connection until events arrive or `blockMs` passes. */
  async waitAfter(
    connection: Redis,
    agentId: string,
    afterId: string,
    blockMs: number,
  ): Promise<AgentEvent[]> {
    const result = await connection.xread(
      'COUNT',
      100,
      'BLOCK',
      blockMs,
      'STREAMS',
      this.streamKey(agentId),
      afterId,
    );
    return result?.[0]?.[1].map(toEvent) ?? [];
  }
}

function toEvent([id, fields]: [string, string[]]): AgentEvent {
  const record: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!;
  return {
    id,
    type: record.type as AgentEventType,
    data: JSON.parse(record.data ?? '{}') as Record<string, unknown>,
  };
}
