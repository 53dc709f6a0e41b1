import { createHash, randomBytes } from 'node:crypto';
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
  /**
   * The reply's place among its conversation's replies (1, 2, …, with gaps): they reach the
   * buyer in this order. Absent on replies written before it existed (then `createdAt`).
   */
  seq?: number;
  /** When the consultation this reply answers began; fixed when the reply is sent. */
  consultationStart?: number;
  /** The bookkeeping after sending (history, meters, figures) is done. */
  recorded?: boolean;
}

/** Replies remembered per conversation for the console. */
const RECENT_REPLIES = 20;
/** Replies are kept 30 days: long enough for any dispute about what was sent. */
const REPLY_TTL_SECONDS = 30 * 86_400;
/** An Idempotency-Key is remembered a day: far past any client's retries of one send. */
const REPLY_KEY_TTL_SECONDS = 86_400;
/**
 * While its reply is being made a key lives a minute: a process that died in
 * between must not leave the key answering "in progress" for a day.
 */
const PENDING_TTL_SECONDS = 60;
/** What a key holds while its reply is being made (a reply id starts with rpl_). */
const PENDING = 'pending';

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

  async create(input: Omit<Reply, 'replyId' | 'status' | 'attempts' | 'seq'>): Promise<Reply> {
    return (await this.createOnce(input, `rpl_${randomBytes(9).toString('base64url')}`)).reply;
  }

  /**
   * Creates the reply under `replyId` unless one already exists there (a
   * retry of a send whose id comes from its Idempotency-Key): then that one is
   * returned, `created` false, and nothing is written.
   */
  async createOnce(
    input: Omit<Reply, 'replyId' | 'status' | 'attempts' | 'seq'>,
    replyId: string,
  ): Promise<{ reply: Reply; created: boolean }> {
    const sequence = this.keys.replySequence(input.shopId, input.conversationId);
    // Taken first, so the reply is written once with its place (a retry that finds the reply
    // made only leaves a gap); with its clock in the same step, so no counter outlives its replies.
    const counted = await this.redis
      .multi()
      .incr(sequence)
      .expire(sequence, REPLY_TTL_SECONDS)
      .exec();
    const seq = Number(counted?.[0]?.[1]);
    if (!Number.isSafeInteger(seq)) throw new Error('reply sequence not taken');
    const reply: Reply = { ...input, replyId, status: 'queued', attempts: 0, seq };
    const key = this.key(reply.shopId, replyId);
    const set = await this.redis.set(key, JSON.stringify(reply), 'EX', REPLY_TTL_SECONDS, 'NX');
    if (!set) {
      const existing = await this.get(reply.shopId, replyId);
      // One that never reached the queue (it failed to, and says so: no attempt) is made again.
      if (existing && !(existing.status === 'failed' && existing.attempts === 0))
        return { reply: existing, created: false };
      await this.redis.set(key, JSON.stringify(reply), 'EX', REPLY_TTL_SECONDS);
    }
    const index = this.conversationIndex(reply.shopId, reply.conversationId);
    await this.redis
      .multi()
      .zadd(index, reply.createdAt, replyId)
      .zremrangebyrank(index, 0, -(RECENT_REPLIES + 1))
      .expire(index, REPLY_TTL_SECONDS)
      .exec();
    return { reply, created: true };
  }

  /**
   * The reply id a send with this Idempotency-Key gets: the same for every
   * retry, so a retry that finds its key gone (expired while pending, or never
   * settled after a failure) still finds the reply, and queues nothing again.
   */
  replyIdFor(shopId: string, agentId: string, key: string): string {
    const digest = createHash('sha256').update(`${shopId}\n${agentId}\n${key}`).digest();
    return `rpl_k${digest.subarray(0, 12).toString('base64url')}`;
  }

  /** Whether `a` goes to the buyer before `b` (their places; for older replies, when written). */
  static before(a: Reply, b: Reply): boolean {
    if (a.seq !== undefined && b.seq !== undefined) return a.seq < b.seq;
    return a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.replyId < b.replyId);
  }

  /** The conversation's latest replies, oldest first: an agent reopening it sees what is still queued or failed. */
  async recent(shopId: string, conversationId: string): Promise<Reply[]> {
    const ids = await this.redis.zrange(this.conversationIndex(shopId, conversationId), 0, -1);
    if (ids.length === 0) return [];
    const raw = await this.redis.mget(ids.map((id) => this.key(shopId, id)));
    // In the order they reach the buyer (two written in the same millisecond tie on the index's score).
    return raw
      .filter((r): r is string => r !== null)
      .map((r) => JSON.parse(r) as Reply)
      .sort((a, b) => (ReplyStore.before(a, b) ? -1 : ReplyStore.before(b, a) ? 1 : 0));
  }

  /**
   * Takes an agent's Idempotency-Key for a new reply. Returns null when it is
   * new (the caller makes the reply, then `settleKey`, or `releaseKey` on
   * failure), else what it holds: the reply id it made, or 'pending'.
   */
  async takeKey(shopId: string, agentId: string, key: string): Promise<string | null> {
    const redisKey = this.keyOf(shopId, agentId, key);
    const taken = await this.redis.set(redisKey, PENDING, 'EX', PENDING_TTL_SECONDS, 'NX');
    return taken ? null : ((await this.redis.get(redisKey)) ?? PENDING);
  }

  async settleKey(shopId: string, agentId: string, key: string, replyId: string): Promise<void> {
    await this.redis.set(this.keyOf(shopId, agentId, key), replyId, 'EX', REPLY_KEY_TTL_SECONDS);
  }

  /** A send that failed before its reply existed: the same key may try again. */
  async releaseKey(shopId: string, agentId: string, key: string): Promise<void> {
    await this.redis.del(this.keyOf(shopId, agentId, key));
  }

  private keyOf(shopId: string, agentId: string, key: string): string {
    return this.keys.replyByKey(shopId, agentId, createHash('sha256').update(key).digest('hex'));
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
