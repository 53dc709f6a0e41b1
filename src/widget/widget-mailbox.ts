import type { RedisConnection } from '../shared/redis';

export interface MailboxMessage {
  id: string;
  text: string;
  at: string;
}

type Listener = (message: MailboxMessage) => void;

/**
 * Live delivery of agents' replies to buyers' open widgets. A reply is
 * published once on one channel; every API process keeps ONE subscriber
 * connection and fans the reply out to the widgets it serves. Nothing is lost
 * when no widget is open: the reply is also in the conversation, which the
 * widget reads on its next visit and after every reconnect.
 */
export class WidgetMailbox {
  private subscriber: RedisConnection | null = null;
  private readonly listeners = new Map<string, Set<Listener>>();
  private total = 0;

  constructor(
    private readonly publisher: RedisConnection,
    private readonly channel: string,
    private readonly openSubscriber: () => RedisConnection,
  ) {}

  async post(shopId: string, buyerId: string, message: MailboxMessage): Promise<void> {
    await this.publisher.publish(this.channel, JSON.stringify([shopId, buyerId, message]));
  }

  /** How many live widgets this process serves for one buyer, and in all. */
  openCount(shopId: string, buyerId: string): { buyer: number; total: number } {
    return { buyer: this.listeners.get(address(shopId, buyerId))?.size ?? 0, total: this.total };
  }

  listen(shopId: string, buyerId: string, listener: Listener): () => void {
    this.ensureSubscribed();
    const key = address(shopId, buyerId);
    const set = this.listeners.get(key) ?? new Set<Listener>();
    set.add(listener);
    this.listeners.set(key, set);
    this.total += 1;
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.total -= 1;
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(key);
    };
  }

  close(): void {
    this.subscriber?.disconnect();
    this.subscriber = null;
  }

  private ensureSubscribed(): void {
    if (this.subscriber) return;
    const subscriber = this.openSubscriber();
    this.subscriber = subscriber;
    subscriber.on('message', (_channel: string, raw: string) => {
      let parsed: [string, string, MailboxMessage];
      try {
        parsed = JSON.parse(raw) as [string, string, MailboxMessage];
      } catch {
        return;
      }
      const [shopId, buyerId, message] = parsed;
      for (const listener of this.listeners.get(address(shopId, buyerId)) ?? []) listener(message);
    });
    void subscriber.subscribe(this.channel).catch(() => {
      // The connection retries by itself and ioredis re-subscribes on reconnect.
    });
  }
}

function address(shopId: string, buyerId: string): string {
  return JSON.stringify([shopId, buyerId]);
}
