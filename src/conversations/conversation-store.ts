import type { Redis } from 'ioredis';
import { AppError } from '../shared/errors';
import type { RedisKeys } from '../shared/redis';

export interface StoredMessage {
  id: string;
  from: 'buyer' | 'agent';
  text: string;
  /** ms since epoch: the platform's sentAt, not when we processed it. */
  at: number;
  agentName?: string;
}

/** Messages kept per conversation; older ones are trimmed (counts live in the meters). */
const HISTORY_LIMIT = 200;

// Dedupe by message id, insert by sent time (so concurrent workers still give
// the conversation its real order), trim, and keep the last-seen times.
const APPEND_SCRIPT = `
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('EXPIRE', KEYS[1], 259200)
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -${HISTORY_LIMIT + 1})
local field = ARGV[4] == 'buyer' and 'lastBuyerAt' or 'lastAgentAt'
local current = tonumber(redis.call('HGET', KEYS[3], field) or '0')
if tonumber(ARGV[2]) > current then redis.call('HSET', KEYS[3], field, ARGV[2]) end
return 1
`;

/** Conversation id: opaque to clients, reversible to (shop, buyer) for us. */
export function conversationId(shopId: string, buyerId: string): string {
  return `cnv_${Buffer.from(JSON.stringify([shopId, buyerId])).toString('base64url')}`;
}

export function parseConversationId(id: string): { shopId: string; buyerId: string } {
  try {
    if (!id.startsWith('cnv_')) throw new Error('prefix');
    const [shopId, buyerId] = JSON.parse(Buffer.from(id.slice(4), 'base64url').toString('utf8')) as unknown[];
    if (typeof shopId !== 'string' || typeof buyerId !== 'string') throw new Error('shape');
    return { shopId, buyerId };
  } catch {
    throw new AppError(404, 'not_found', 'Conversation was not found.');
  }
}

export class ConversationStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  private key(shopId: string, buyerId: string, part: string): string {
    return this.keys.shop(shopId, 'conv', Buffer.from(buyerId).toString('base64url'), part);
  }

  /** Appends once per message id; returns false for a duplicate. */
  async append(shopId: string, buyerId: string, message: StoredMessage): Promise<boolean> {
    const added = await this.redis.eval(
      APPEND_SCRIPT,
      3,
      this.key(shopId, buyerId, 'ids'),
      this.key(shopId, buyerId, 'messages'),
      this.key(shopId, buyerId, 'meta'),
      message.id,
      String(message.at),
      JSON.stringify(message),
      message.from,
    );
    return added === 1;
  }

  /** The latest `limit` messages, oldest first. */
  async history(shopId: string, buyerId: string, limit = 50): Promise<StoredMessage[]> {
    const raw = await this.redis.zrange(this.key(shopId, buyerId, 'messages'), -limit, -1);
    return raw.map((entry) => JSON.parse(entry) as StoredMessage);
  }

  async meta(shopId: string, buyerId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.key(shopId, buyerId, 'meta'));
  }

  async setMeta(shopId: string, buyerId: string, fields: Record<string, string>): Promise<void> {
    await this.redis.hset(this.key(shopId, buyerId, 'meta'), fields);
  }
}
