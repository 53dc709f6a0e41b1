import type { Redis } from 'ioredis';
import type { Logger } from '../shared/logger';
import { type AgentEvent, type AgentEvents, compareIds, toEvent } from './agent-events';

export type HubListener = (events: AgentEvent[]) => void;

interface Subscription {
  /** The newest id the hub has read from this agent's stream. */
  cursor: string;
  listeners: Set<HubListener>;
}

/**
 * One Redis reader for every event stream of the process: a single blocking
 * XREAD over the streams of all subscribed agents, fanned out in memory, so
 * a thousand open consoles cost one Redis connection, not a thousand. A new
 * subscriber interrupts the blocked read (CLIENT UNBLOCK) so its agent's key
 * joins the next read at once.
 */
export class EventHub {
  private readonly subscriptions = new Map<string, Subscription>();
  private connection: Redis | null = null;
  private clientId: string | null = null;
  private running = false;
  private closed = false;

  constructor(
    private readonly deps: {
      events: AgentEvents;
      /** Opens the hub's one blocking connection (waits out Redis blips). */
      open: () => Redis;
      /** A non-blocking connection that can interrupt the hub's read. */
      waker: Redis;
      blockMs: number;
      logger: Logger;
    },
  ) {}

  /** Live events of the agent from now on; returns the unsubscribe function. */
  async subscribe(agentId: string, listener: HubListener): Promise<() => void> {
    let entry = this.subscriptions.get(agentId);
    if (!entry) {
      const cursor = await this.deps.events.latestId(agentId);
      entry = this.subscriptions.get(agentId) ?? { cursor, listeners: new Set() };
      this.subscriptions.set(agentId, entry);
    }
    const subscription = entry;
    subscription.listeners.add(listener);
    this.run();
    this.wake();
    return () => {
      subscription.listeners.delete(listener);
      if (subscription.listeners.size === 0 && this.subscriptions.get(agentId) === subscription)
        this.subscriptions.delete(agentId);
    };
  }

  /** Agents with at least one live subscriber in this process. */
  get agentCount(): number {
    return this.subscriptions.size;
  }

  close(): void {
    this.closed = true;
    this.connection?.disconnect();
    this.connection = null;
  }

  private wake(): void {
    if (this.clientId === null) return;
    this.deps.waker.call('CLIENT', 'UNBLOCK', this.clientId).catch(() => undefined);
  }

  private reader(): Redis {
    if (!this.connection) {
      const connection = this.deps.open();
      connection.on('error', (error) =>
        this.deps.logger.warn({ err: error.message }, 'event hub redis error'),
      );
      // A new connection has a new client id; learn it again before the next read.
      connection.on('close', () => {
        this.clientId = null;
      });
      this.connection = connection;
    }
    return this.connection;
  }

  private run(): void {
    if (this.running || this.closed) return;
    this.running = true;
    void this.loop().finally(() => {
      this.running = false;
      // A subscriber that arrived as the loop was ending still needs a reader.
      if (this.subscriptions.size > 0 && !this.closed) this.run();
    });
  }

  private async loop(): Promise<void> {
    while (!this.closed && this.subscriptions.size > 0) {
      const connection = this.reader();
      const agentIds = [...this.subscriptions.keys()];
      const byKey = new Map(agentIds.map((id) => [this.deps.events.streamKey(id), id]));
      const cursors = agentIds.map((id) => this.subscriptions.get(id)!.cursor);
      let result: Array<[string, Array<[string, string[]]>]> | null;
      try {
        if (this.clientId === null) this.clientId = String(await connection.call('CLIENT', 'ID'));
        result = (await connection.xread(
          'COUNT',
          200,
          'BLOCK',
          this.deps.blockMs,
          'STREAMS',
          ...byKey.keys(),
          ...cursors,
        )) as Array<[string, Array<[string, string[]]>]> | null;
      } catch (error) {
        if (this.closed) return;
        this.deps.logger.warn({ err: (error as Error).message }, 'event hub read failed');
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      for (const [key, entries] of result ?? []) {
        const agentId = byKey.get(key);
        const subscription = agentId ? this.subscriptions.get(agentId) : undefined;
        if (!subscription || entries.length === 0) continue;
        const events = entries.map(toEvent);
        const last = events.at(-1)!.id;
        if (compareIds(last, subscription.cursor) > 0) subscription.cursor = last;
        for (const listener of [...subscription.listeners]) listener(events);
      }
    }
  }
}
