import { randomBytes } from 'node:crypto';
import type { RedisConnection, RedisKeys } from '../shared/redis';

export type ReplyStatus = 'queued' | 'sent' | 'failed';
/** Whether the agent sent a suggestion as it was, edited it, or wrote their own. */
export type ReplyOrigin = 'suggestion_as_is' | 'suggestion_edited' | 'own';

export interface Reply {
  replyId: string;
  conversationId: string;
  shopId: string;
  buyerId: string;
  agentId: string;
  text: string;
  suggestionId?: string;
  origin: ReplyOrigin;
  status: ReplyStatus;
  createdAt: number;
  sentAt?: number;
  failedAt?: number;
  /** The platform's own words when it refused, shown to the agent. */
  error?: string;
  platformMessageId?: string;
  attempts: number;
  /** When the consultation this reply answers began; fixed when the reply is sent. */
  consultationStart?: number;
  /** The bookkeeping after sending (history, meters, figures) is done. */
  recorded?: boolean;
}

/** Replies remembered per conversation for the console. */
const RECENT_REPLIES = 20;
/** Replies are kept 30 days: long enough for any dispute about what was sent. */
const REPLY_TTL_SECONDS = 30 * 86_400;

export class ReplyStore {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
  ) {}

  private key(shopId: string, replyId: string): string {
    return this.keys.reply(shopId, replyId);
  }

  private conversationIndex(shopId: string, conversationId: string): string {
    return this.keys.repliesOf(shopId, conversationId);
  }

  async create(input: Omit<Reply, 'replyId' | 'status' | 'attempts'>): Promise<Reply> {
    const reply: Reply = {
      ...input,
      replyId: `rpl_${randomBytes(9).toString('base64url')}`,
      status: 'queued',
      attempts: 0,
    };
    const index = this.conversationIndex(reply.shopId, reply.conversationId);
    await this.redis
      .multi()
      .set(this.key(reply.shopId, reply.replyId), JSON.stringify(reply), 'EX', REPLY_TTL_SECONDS)
      .zadd(index, reply.createdAt, reply.replyId)
      .zremrangebyrank(index, 0, -(RECENT_REPLIES + 1))
      .expire(index, REPLY_TTL_SECONDS)
      .exec();
    return reply;
  }

  /** The conversation's latest replies, oldest first: an agent reopening it sees what is still queued or failed. */
  async recent(shopId: string, conversationId: string): Promise<Reply[]> {
    const ids = await this.redis.zrange(this.conversationIndex(shopId, conversationId), 0, -1);
    if (ids.length === 0) return [];
    const raw = await this.redis.mget(ids.map((id) => this.key(shopId, id)));
    return raw.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as Reply);
  }

  async get(shopId: string, replyId: string): Promise<Reply | null> {
    const raw = await this.redis.get(this.key(shopId, replyId));
    return raw ? (JSON.parse(raw) as Reply) : null;
  }

  async update(shopId: string, replyId: string, change: Partial<Reply>): Promise<Reply | null> {
    const current = await this.get(shopId, replyId);
    if (!current) return null;
    const next = { ...current, ...change };
    await this.redis.set(this.key(shopId, replyId), JSON.stringify(next), 'EX', REPLY_TTL_SECONDS);
    return next;
  }
}
