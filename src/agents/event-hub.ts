import type { Logger } from '../shared/logger';
import type { RedisConnection } from '../shared/redis';
import { type AgentEvent, type AgentEvents, compareIds, toEvent } from './agent-events';

export type HubListener = (events: AgentEvent[]) => void;

/**
 * How long the hub waits, after a read that brought events, before reading
 * again. Under load a blocked XREAD returns as soon as one event lands, so
 * reading again at once costs one XREAD, and one write to every open console,
 * per event or two (1,000 messages a second are about 2,000 events). Waiting
 * a moment lets the next read bring what arrived meanwhile in one batch. An
 * event that finds the hub idle (blocked) is still delivered at once; only
 * back-to-back events wait, at most this long.
 */
export const HUB_BATCH_MS = 5;

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
  private connection: RedisConnection | null = null;
  /** The last wake-up read; from the start at first, so a wake-up before the first read is not lost. */
  private wakeCursor = '0-0';
  private running = false;
  private closed = false;

  constructor(
    private readonly deps: {
      events: AgentEvents;
      /** Opens the hub's one blocking connection (waits out Redis blips). */
      open: () => RedisConnection;
      /** A non-blocking connection that can interrupt the hub's read. */
      waker: RedisConnection;
      /** The stream a wake-up is added to; in the agents' streams' slot, so one XREAD reads both. */
      wakeKey: string;
      blockMs: number;
      /** The pause after a read that brought events (`HUB_BATCH_MS`); 0 reads again at once. */
      batchMs: number;
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

  /**
   * Interrupts the blocked read by adding to the wake stream it also reads.
   * (CLIENT UNBLOCK would need the reader's node and client id, which a
   * Cluster does not pin; a stream in the same slot works on both.) Every
   * hub reading it wakes once and reads again: cheap, as subscribes are rare.
   */
  private wake(): void {
    if (this.closed) return;
    this.deps.waker
      .xadd(this.deps.wakeKey, 'MAXLEN', '~', 100, '*', 'w', '1')
      .catch(() => undefined);
  }

  private reader(): RedisConnection {
    if (!this.connection) {
      const connection = this.deps.open();
      connection.on('error', (error) =>
        this.deps.logger.warn({ err: error.message }, 'event hub redis error'),
      );
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
        result = (await connection.xread(
          'COUNT',
          200,
          'BLOCK',
          this.deps.blockMs,
          'STREAMS',
          ...byKey.keys(),
          this.deps.wakeKey,
          ...cursors,
          this.wakeCursor,
        )) as Array<[string, Array<[string, string[]]>]> | null;
      } catch (error) {
        if (this.closed) return;
        this.deps.logger.warn({ err: (error as Error).message }, 'event hub read failed');
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      let delivered = false;
      for (const [key, entries] of result ?? []) {
        if (key === this.deps.wakeKey) {
          if (entries.length > 0) this.wakeCursor = entries.at(-1)![0];
          continue;
        }
        const agentId = byKey.get(key);
        const subscription = agentId ? this.subscriptions.get(agentId) : undefined;
        if (!subscription || entries.length === 0) continue;
        const events = entries.map(toEvent);
        const last = events.at(-1)!.id;
        if (compareIds(last, subscription.cursor) > 0) subscription.cursor = last;
        for (const listener of [...subscription.listeners]) listener(events);
        delivered = true;
      }
      if (delivered && this.deps.batchMs > 0)
        await new Promise((resolve) => setTimeout(resolve, this.deps.batchMs));
    }
  }
}
