import type { MessageMedia } from '../platforms/contract';
import { AppError } from '../shared/errors';
import type { RedisConnection, RedisKeys } from '../shared/redis';
import { defineScript } from '../shared/redis-scripts';

export interface StoredMessage {
  id: string;
  from: 'buyer' | 'agent';
  text: string;
  /** ms since epoch: the platform's sentAt, not when we processed it. */
  at: number;
  agentName?: string;
  /** Arrived more than STALE_MESSAGE_HOURS after it was sent: history only, never a live wait. */
  stale?: boolean;
  /**
   * `open`: the buyer asked for service without writing (a menu click, a
   * postback). Shown with a readable label; it neither meters nor makes anyone wait.
   */
  kind?: 'open';
  /** An image, voice, video, file, sticker or location, as the platform referenced it. */
  media?: MessageMedia;
  /** Who wrote a buyer message in a group or topic, where the conversation is not one person. */
  author?: { id: string; name?: string };
  /** Set when the platform's sentAt was absurd (e.g. year 9999): kept as claimed; `at` is the arrival. */
  claimedSentAt?: string;
}

export interface ConversationState {
  buyerName?: string;
  lastBuyerAt?: number;
  lastAgentAt?: number;
  /** Set while the buyer's latest message has no agent reply yet. */
  waitingSince?: number;
  repliesSinceBuyer: number;
  replyContext?: Record<string, string>;
  closedAt?: number;
  /** `group` or `topic` for a shared thread; absent for a direct chat. */
  threadKind?: string;
  /** The person who wrote the latest buyer message: who an agent's reply answers, for metering. */
  lastBuyerId?: string;
  /** When the buyer last asked for service without writing (menu click, postback). */
  openedAt?: number;
  repliesSinceOpen: number;
  /** The page the buyer is looking at, as the storefront widget reported it. */
  pageContext?: { productId?: string; productName?: string; url?: string; at: string };
}

/** The latest suggestions for a conversation, as the engine gave them. */
export interface StoredSuggestions {
  forMessageId: string;
  at: number;
  stage: string;
  sentiment: string;
  signals: string[];
  locale: string;
  engine: string;
  suggestions: Array<{ id: string; text: string; tactic: string }>;
}

/** A closed stretch of a conversation (opened by a buyer, closed by an agent or by idling). */
export interface ConversationSession {
  startedAt: number;
  closedAt: number;
  messageCount: number;
  lastMessage: { from: 'buyer' | 'agent'; text: string; at: number };
}

/** Earlier sessions remembered per conversation. */
const SESSIONS_KEPT = 20;

/** Messages kept per conversation; older ones are trimmed (counts live in the meters). */
const HISTORY_LIMIT = 200;

// Dedupe by message id, insert by sent time (so concurrent workers still give
// the conversation its real order), trim, and keep the conversation's state:
// last-seen times, since when the buyer waits unanswered, replies since the
// buyer last wrote (reply windows), and the shop's index of active chats. A
// stale buyer message (ARGV[8] = '1') joins the history only: no wait, no reopening.
// ARGV[10..]: meta fields to set (pairs), also on a duplicate (a retried job).
// With ARGV[9] = '1' the reply is {added, waitingSince, buyerName} after the
// write, so the caller needs no second read.
//
// This runs for every message, so it counts its commands: one HMGET for what
// it reads, one HSET for what it writes, the history trimmed every TRIM_EVERY
// messages, the active index's size checked only when a conversation joins it, and the retention clocks (EXPIRE, pruning the
// index) refreshed at most once per TOUCH_MS of message time per conversation
// (`touchedAt`), so a conversation lives its retention after its last
// activity give or take that much.
const TOUCH_MS = 3_600_000;
const TRIM_EVERY = 20;
const APPEND_SCRIPT = defineScript<number | Array<number | string | null>>(
  'conversationAppend',
  `
local ttl = tonumber(ARGV[6])
local set = {}
for i = 10, #ARGV do set[#set + 1] = ARGV[i] end
local state = {}
-- The meta hash's clock is set after its last write (a new conversation's meta only exists then).
local expireMeta = false
local function finish(added)
  if #set > 0 then redis.call('HSET', KEYS[3], unpack(set)) end
  if expireMeta then redis.call('EXPIRE', KEYS[3], ttl) end
  if ARGV[9] ~= '1' then return added end
  if state.waiting == nil then
    local m = redis.call('HMGET', KEYS[3], 'waitingSince', 'buyerName')
    state.waiting, state.name = m[1], m[2]
  end
  return {added, state.waiting or false, state.name or false}
end
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then
  expireMeta = #set > 0
  return finish(0)
end
local at = tonumber(ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
local m = redis.call('HMGET', KEYS[3], 'lastBuyerAt', 'lastAgentAt', 'waitingSince', 'openedAt', 'closedAt', 'touchedAt', 'buyerName', 'untrimmed')
-- The history is trimmed every ${TRIM_EVERY} messages (it holds ${HISTORY_LIMIT} to ${HISTORY_LIMIT + TRIM_EVERY - 1}).
local untrimmed = tonumber(m[8] or '0') + 1
if untrimmed >= ${TRIM_EVERY} then
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -${HISTORY_LIMIT + 1})
  untrimmed = 0
end
set[#set + 1] = 'untrimmed'; set[#set + 1] = untrimmed
local lastBuyer, lastAgent, waiting = tonumber(m[1] or '0'), tonumber(m[2] or '0'), m[3]
local opened = tonumber(m[4] or '0')
state.waiting, state.name = waiting or false, m[7] or false
for i = 10, #ARGV, 2 do
  if ARGV[i] == 'buyerName' then state.name = ARGV[i + 1] end
end
local touch = at - tonumber(m[6] or '0') >= ${TOUCH_MS}
if touch then
  set[#set + 1] = 'touchedAt'; set[#set + 1] = ARGV[2]
  expireMeta = true
  redis.call('EXPIRE', KEYS[1], 259200)
  redis.call('EXPIRE', KEYS[2], ttl)
end
if ARGV[4] == 'buyer' and ARGV[8] == '1' then return finish(1) end
if ARGV[4] == 'open' then
  -- A menu click or postback asking for service: visible, reopened, the short window noted; no one waits yet.
  if at > opened then
    set[#set + 1] = 'openedAt'; set[#set + 1] = at
    set[#set + 1] = 'repliesSinceOpen'; set[#set + 1] = 0
  end
  if m[5] then redis.call('HDEL', KEYS[3], 'closedAt') end
elseif ARGV[4] == 'buyer' then
  if at > lastBuyer then
    set[#set + 1] = 'lastBuyerAt'; set[#set + 1] = at
    set[#set + 1] = 'repliesSinceBuyer'; set[#set + 1] = 0
  end
  if (not waiting) and at > lastAgent then
    set[#set + 1] = 'waitingSince'; set[#set + 1] = at
    state.waiting = ARGV[2]
  end
  if m[5] then redis.call('HDEL', KEYS[3], 'closedAt') end
else
  if at > lastAgent then set[#set + 1] = 'lastAgentAt'; set[#set + 1] = at end
  if at >= lastBuyer then redis.call('HINCRBY', KEYS[3], 'repliesSinceBuyer', 1) end
  if opened > 0 and at >= opened then redis.call('HINCRBY', KEYS[3], 'repliesSinceOpen', 1) end
  if waiting and at >= tonumber(waiting) then
    redis.call('HDEL', KEYS[3], 'waitingSince')
    state.waiting = false
  end
end
-- GT: the index keeps each conversation's latest activity; a new member is counted below.
local joined = redis.call('ZADD', KEYS[4], 'GT', at, ARGV[5])
-- Retention: the conversation lives ARGV[6] seconds after its last activity; the shop's
-- active index drops members quiet that long and keeps at most ARGV[7] (the quietest go).
if touch then redis.call('EXPIRE', KEYS[4], ttl) end
if touch or joined > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. string.format('%.0f', at - ttl * 1000))
end
if joined > 0 then
  local over = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[7])
  if over > 0 then redis.call('ZREMRANGEBYRANK', KEYS[4], 0, over - 1) end
end
return finish(1)
`,
);

// An agent's close. ARGV[3]: the newest buyer message time the agent had seen ('' when the
// client did not say): a buyer message newer than that arrived unseen, and closing would
// take the waiting buyer off every list, so nothing changes (-1). Else 1 when it left the
// active index, 0 when it was not there.
const CLOSE_SCRIPT = defineScript<number>(
  'conversationClose',
  `
if ARGV[3] ~= '' and tonumber(redis.call('HGET', KEYS[1], 'lastBuyerAt') or '0') > tonumber(ARGV[3]) then
  return -1
end
local removed = redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('HSET', KEYS[1], 'closedAt', ARGV[1])
redis.call('HDEL', KEYS[1], 'waitingSince')
return removed
`,
);

const CLOSE_IF_QUIET_SCRIPT = defineScript<number>(
  'conversationCloseIfQuiet',
  `
local meta = redis.call('HMGET', KEYS[1], 'closedAt', 'waitingSince', 'lastBuyerAt', 'lastAgentAt')
if meta[1] or meta[2] then return 0 end
local answered = tonumber(ARGV[1])
if tonumber(meta[3] or '0') > answered or tonumber(meta[4] or '0') > answered then return 0 end
redis.call('HSET', KEYS[1], 'closedAt', ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[3])
return 1
`,
);

/** The state held in a conversation's meta hash. */
function stateOf(meta: Record<string, string>): ConversationState {
  const num = (value: string | undefined) => (value === undefined ? undefined : Number(value));
  return {
    buyerName: meta.buyerName,
    lastBuyerAt: num(meta.lastBuyerAt),
    lastAgentAt: num(meta.lastAgentAt),
    waitingSince: num(meta.waitingSince),
    repliesSinceBuyer: Number(meta.repliesSinceBuyer ?? '0'),
    replyContext: meta.replyContext
      ? (JSON.parse(meta.replyContext) as Record<string, string>)
      : undefined,
    closedAt: num(meta.closedAt),
    threadKind: meta.threadKind,
    lastBuyerId: meta.lastBuyerId,
    openedAt: num(meta.openedAt),
    pageContext: meta.pageContext
      ? (JSON.parse(meta.pageContext) as ConversationState['pageContext'])
      : undefined,
    repliesSinceOpen: Number(meta.repliesSinceOpen ?? '0'),
  };
}

// Closes a wait nobody answered once the buyer has been quiet for ARGV[2] ms:
// still the same wait (ARGV[1]), not closed. ARGV[5] = 'open': the wait is a
// request for service (openedAt = ARGV[1]) with no reply since and no message
// wait. Answers -1 when there is nothing to close, 0 when it closed, or the
// later due time when the buyer wrote since.
const CLOSE_IF_UNANSWERED_SCRIPT = defineScript<number>(
  'conversationCloseIfUnanswered',
  `
local meta = redis.call('HMGET', KEYS[1], 'closedAt', 'waitingSince', 'lastBuyerAt', 'openedAt', 'repliesSinceOpen')
if meta[1] then return -1 end
local due
if ARGV[5] == 'open' then
  if meta[2] or tonumber(meta[4] or '-1') ~= tonumber(ARGV[1]) or tonumber(meta[5] or '0') > 0 then return -1 end
  due = tonumber(ARGV[1]) + tonumber(ARGV[2])
else
  if tonumber(meta[2] or '-1') ~= tonumber(ARGV[1]) then return -1 end
  due = math.max(tonumber(meta[3] or '0'), tonumber(ARGV[1])) + tonumber(ARGV[2])
end
if due > tonumber(ARGV[3]) then return due end
redis.call('HSET', KEYS[1], 'closedAt', ARGV[3])
redis.call('HDEL', KEYS[1], 'waitingSince')
redis.call('ZREM', KEYS[2], ARGV[4])
return 0
`,
);

/**
 * Conversation id: opaque to clients, reversible to (shop, key) for us. The
 * key is the buyer's id for a direct chat (see conversation-key.ts), so the
 * parameter keeps its historical name `buyerId` throughout the store.
 */
export function conversationId(shopId: string, buyerId: string): string {
  return `cnv_${Buffer.from(JSON.stringify([shopId, buyerId])).toString('base64url')}`;
}

export function parseConversationId(id: string): { shopId: string; buyerId: string } {
  const notFound = () => new AppError(404, 'not_found', 'Conversation was not found.');
  let parts: unknown;
  try {
    if (!id.startsWith('cnv_')) throw notFound();
    parts = JSON.parse(Buffer.from(id.slice(4), 'base64url').toString('utf8'));
  } catch {
    throw notFound();
  }
  if (!Array.isArray(parts) || parts.length !== 2) throw notFound();
  const [shopId, buyerId] = parts as unknown[];
  if (typeof shopId !== 'string' || typeof buyerId !== 'string') throw notFound();
  // One spelling per conversation: other JSON spacing, padding or base64 variants of the
  // same (shop, buyer) would otherwise be distinct ids for claims and assignment.
  if (conversationId(shopId, buyerId) !== id) throw notFound();
  return { shopId, buyerId };
}

/** How long conversations live after their last activity, and how many one shop keeps live. */
export interface ConversationRetention {
  retentionSeconds: number;
  maxLiveConversations: number;
}

export const DEFAULT_RETENTION: ConversationRetention = {
  retentionSeconds: 90 * 86_400,
  maxLiveConversations: 20_000,
};

export class ConversationStore {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly retention: ConversationRetention = DEFAULT_RETENTION,
  ) {}

  private key(
    shopId: string,
    buyerId: string,
    part: 'messages' | 'meta' | 'ids' | 'suggestions' | 'sessions',
  ): string {
    return this.keys.conversation(shopId, buyerId, part);
  }

  /** Appends once per message id; returns false for a duplicate. */
  async append(shopId: string, buyerId: string, message: StoredMessage): Promise<boolean> {
    return (
      (await APPEND_SCRIPT.run(this.redis, ...this.appendCall(shopId, buyerId, message))) === 1
    );
  }

  /**
   * Appends once per message id, sets `meta` (also on a duplicate: a retried
   * job) and returns what the workspace needs of the state afterwards: one
   * script call where append, set and read would be three.
   */
  async record(
    shopId: string,
    buyerId: string,
    message: StoredMessage,
    meta: Record<string, string>,
  ): Promise<{
    stored: boolean;
    state: Pick<ConversationState, 'waitingSince' | 'buyerName'>;
  }> {
    const [keys, args] = this.appendCall(shopId, buyerId, message);
    // ARGV[9] = '1': answer with the state; the meta fields follow.
    const [added, waitingSince, buyerName] = (await APPEND_SCRIPT.run(this.redis, keys, [
      ...args.slice(0, 8),
      '1',
      ...Object.entries(meta).flat(),
    ])) as [number, string | null, string | null];
    return {
      stored: added === 1,
      state: {
        waitingSince: waitingSince === null ? undefined : Number(waitingSince),
        buyerName: buyerName ?? undefined,
      },
    };
  }

  private appendCall(
    shopId: string,
    buyerId: string,
    message: StoredMessage,
  ): [string[], Array<string | number>] {
    return [
      [
        this.key(shopId, buyerId, 'ids'),
        this.key(shopId, buyerId, 'messages'),
        this.key(shopId, buyerId, 'meta'),
        this.keys.activeConversations(shopId),
      ],
      [
        message.id,
        String(message.at),
        JSON.stringify(message),
        message.kind === 'open' ? 'open' : message.from,
        buyerId,
        this.retention.retentionSeconds,
        this.retention.maxLiveConversations,
        message.stale ? '1' : '0',
        '0',
      ],
    ];
  }

  /** Whether anything was ever stored for this buyer (and not yet expired). */
  async exists(shopId: string, buyerId: string): Promise<boolean> {
    return (await this.redis.exists(this.key(shopId, buyerId, 'messages'))) === 1;
  }

  /** The latest `limit` messages, oldest first. */
  async history(shopId: string, buyerId: string, limit = 50): Promise<StoredMessage[]> {
    const raw = await this.redis.zrange(this.key(shopId, buyerId, 'messages'), -limit, -1);
    return raw.map((entry) => JSON.parse(entry) as StoredMessage);
  }

  /** One message of the kept history by its id, or null (never stored, or trimmed and gone). */
  async message(shopId: string, buyerId: string, messageId: string): Promise<StoredMessage | null> {
    return (
      (await this.history(shopId, buyerId, HISTORY_LIMIT)).find((m) => m.id === messageId) ?? null
    );
  }

  async meta(shopId: string, buyerId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.key(shopId, buyerId, 'meta'));
  }

  async setMeta(shopId: string, buyerId: string, fields: Record<string, string>): Promise<void> {
    const key = this.key(shopId, buyerId, 'meta');
    await this.redis.multi().hset(key, fields).expire(key, this.retention.retentionSeconds).exec();
  }

  /** The conversation's state as the workspace and the sender need it. */
  async state(shopId: string, buyerId: string): Promise<ConversationState> {
    return stateOf(await this.meta(shopId, buyerId));
  }

  /** Buyers of a shop's active conversations, most recent activity first. */
  async activeBuyers(shopId: string, limit = 200): Promise<string[]> {
    return this.redis.zrevrange(this.keys.activeConversations(shopId), 0, limit - 1);
  }

  /**
   * A shop's active conversations as agents need them: how many there are, the
   * `latest` most recently active, and the buyers still waiting behind those,
   * longest wait first, with since when (with `latest` 0, every waiting buyer).
   * On a busy shop the longest waits are exactly the conversations that moved
   * least recently. One read of the index, so nobody is listed twice or missed
   * while it moves; the waits are read with one pipelined HGET each.
   */
  async activeAndWaiting(
    shopId: string,
    latest = 200,
  ): Promise<{
    active: number;
    recent: string[];
    waitingBehind: Array<{ buyerId: string; waitingSince: number }>;
  }> {
    const all = await this.redis.zrevrange(this.keys.activeConversations(shopId), 0, -1);
    const recent = all.slice(0, latest);
    const older = all.slice(latest);
    const since = await Promise.all(
      older.map((buyerId) => this.redis.hget(this.key(shopId, buyerId, 'meta'), 'waitingSince')),
    );
    const waitingBehind = older
      .flatMap((buyerId, i) => (since[i] ? [{ buyerId, waitingSince: Number(since[i]) }] : []))
      .sort((a, b) => a.waitingSince - b.waitingSince);
    return { active: all.length, recent, waitingBehind };
  }

  /**
   * Closes the conversation only if nothing happened since `answeredAt`: no
   * newer buyer or agent message, nobody waiting, not closed already. One
   * script, so a buyer message landing at the same moment wins.
   */
  async closeIfQuietSince(
    shopId: string,
    buyerId: string,
    answeredAt: number,
    nowMs: number,
  ): Promise<boolean> {
    const closed = await CLOSE_IF_QUIET_SCRIPT.run(
      this.redis,
      [this.key(shopId, buyerId, 'meta'), this.keys.activeConversations(shopId)],
      [String(answeredAt), String(nowMs), buyerId],
    );
    if (closed === 1) await this.recordSession(shopId, buyerId, nowMs);
    return closed === 1;
  }

  /**
   * Closes the wait that began at `waitingSince` if nobody answered it and the
   * buyer has written nothing for `closeAfterMs`. One script, so a reply or a
   * buyer message landing at the same moment wins. `dueAt`: the buyer wrote
   * since, try again then. `opened`: the wait is a request for service
   * (`openedAt` = `waitingSince`) nobody replied to.
   */
  async closeIfUnanswered(
    shopId: string,
    buyerId: string,
    waitingSince: number,
    closeAfterMs: number,
    nowMs: number,
    opened = false,
  ): Promise<{ closed: true } | { closed: false; dueAt?: number }> {
    const outcome = await CLOSE_IF_UNANSWERED_SCRIPT.run(
      this.redis,
      [this.key(shopId, buyerId, 'meta'), this.keys.activeConversations(shopId)],
      [
        String(waitingSince),
        String(closeAfterMs),
        String(nowMs),
        buyerId,
        opened ? 'open' : 'wait',
      ],
    );
    if (outcome === 0) {
      await this.recordSession(shopId, buyerId, nowMs);
      return { closed: true };
    }
    return outcome > 0 ? { closed: false, dueAt: outcome } : { closed: false };
  }

  /**
   * Takes the conversation off the active list until the buyer writes again.
   * With `seenBuyerAt` (the newest buyer message the closer saw), a buyer
   * message newer than that keeps it open: false, nothing changed.
   */
  async close(
    shopId: string,
    buyerId: string,
    atMs: number,
    seenBuyerAt?: number,
  ): Promise<boolean> {
    const removed = await CLOSE_SCRIPT.run(
      this.redis,
      [this.key(shopId, buyerId, 'meta'), this.keys.activeConversations(shopId)],
      [String(atMs), buyerId, seenBuyerAt === undefined ? '' : String(seenBuyerAt)],
    );
    if (removed === 1) await this.recordSession(shopId, buyerId, atMs);
    return removed !== -1;
  }

  /** The conversation's earlier, closed sessions with this shop, newest first. */
  async sessions(shopId: string, buyerId: string): Promise<ConversationSession[]> {
    const raw = await this.redis.lrange(this.key(shopId, buyerId, 'sessions'), 0, -1);
    return raw.map((entry) => JSON.parse(entry) as ConversationSession);
  }

  /**
   * Remembers a session that just closed: its span, its size and its last
   * message, for the buyer context agents see when the buyer comes back.
   */
  private async recordSession(shopId: string, buyerId: string, closedAt: number): Promise<void> {
    const key = this.key(shopId, buyerId, 'sessions');
    const [previous] = await this.sessions(shopId, buyerId);
    const messages = (await this.history(shopId, buyerId, HISTORY_LIMIT)).filter(
      (m) =>
        !m.stale && m.at > (previous?.closedAt ?? Number.NEGATIVE_INFINITY) && m.at <= closedAt,
    );
    const first = messages[0];
    const last = messages.at(-1);
    if (!first || !last) return;
    const session: ConversationSession = {
      startedAt: first.at,
      closedAt,
      messageCount: messages.length,
      lastMessage: { from: last.from, text: last.text.slice(0, 200), at: last.at },
    };
    await this.redis
      .multi()
      .lpush(key, JSON.stringify(session))
      .ltrim(key, 0, SESSIONS_KEPT - 1)
      .expire(key, this.retention.retentionSeconds)
      .exec();
  }

  async saveSuggestions(
    shopId: string,
    buyerId: string,
    suggestions: StoredSuggestions,
  ): Promise<void> {
    await this.redis.set(
      this.key(shopId, buyerId, 'suggestions'),
      JSON.stringify(suggestions),
      'EX',
      this.retention.retentionSeconds,
    );
  }

  async suggestions(shopId: string, buyerId: string): Promise<StoredSuggestions | null> {
    const raw = await this.redis.get(this.key(shopId, buyerId, 'suggestions'));
    return raw ? (JSON.parse(raw) as StoredSuggestions) : null;
  }
}
