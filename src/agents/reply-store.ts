import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../shared/redis';

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

/** Replies are kept 30 days: long enough for any dispute about what was sent. */
const REPLY_TTL_SECONDS = 30 * 86_400;

export class ReplyStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  private key(shopId: string, replyId: string): string {
    return this.keys.shop(shopId, 'reply', replyId);
  }

  async create(input: Omit<Reply, 'replyId' | 'status' | 'attempts'>): Promise<Reply> {
    const reply: Reply = { ...input, replyId: `rpl_${randomBytes(9).toString('base64url')}`, status: 'queued', attempts: 0 };
    await this.redis.set(this.key(reply.shopId, reply.replyId), JSON.stringify(reply), 'EX', REPLY_TTL_SECONDS);
    return reply;
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
