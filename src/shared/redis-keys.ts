/**
 * Every Redis key name, built here and nowhere else. Every key of one shop
 * carries the hash tag `{s:<shopId>}`, so on a Redis Cluster a shop's keys
 * live in one slot and scripts and MULTIs over them stay legal; assignment
 * keys share `{assign}`; each BullMQ queue has a hash-tagged prefix of its own.
 * `REDIS_LAYOUT` describes them all; docs/architecture.md's table is checked
 * against it by a test.
 */

/** The parts of a day's consultation facts (`d:DAY:PART`). */
export type DayPart = 'buyers' | 'agents' | 'first' | 'frt' | 'converted' | 'firstResponder';
/** The parts of a month's keys (`m:MONTH:PART`). */
export type MonthPart =
  | 'agg'
  | 'overtime'
  | 'orders'
  | 'ratings'
  | 'attributed'
  | 'closing'
  | 'late';

/** Shop-slot key suffixes (after `PREFIX:{s:SHOP}:`), shared with the Lua of the meter. */
export const shopSuffix = {
  day: (day: string, part: DayPart) => `d:${day}:${part}`,
  month: (month: string, part: MonthPart) => `m:${month}:${part}`,
};

/**
 * Lua for scripts over one shop's keys: ARGV[1] is the shop's key prefix,
 * `key(suffix)` answers the full name, taken from KEYS when the caller
 * declared it (every key it can know beforehand) and otherwise built the
 * same way as `shopSuffix` (keys a script only finds by a range scan, such
 * as the month of an order, always in the shop's own slot).
 */
export const SHOP_KEYS_LUA = `
local P = ARGV[1]
local K = {}
for i = 1, #KEYS do K[string.sub(KEYS[i], #P + 2)] = KEYS[i] end
local function key(suffix) return K[suffix] or (P .. ':' .. suffix) end
local function dkey(day, part) return key('d:' .. day .. ':' .. part) end
local function mkey(month, part) return key('m:' .. month .. ':' .. part) end
`;

export class RedisKeys {
  /**
   * `clustered`: the keys live on a Redis Cluster. Only BullMQ's prefixes
   * differ (see `queuePrefix`); every other name is the same on both.
   */
  constructor(
    readonly prefix: string,
    readonly clustered = false,
  ) {}

  /** The prefix of every key of one shop (its hash tag included). */
  shopPrefix(shopId: string): string {
    return `${this.prefix}:{s:${shopId}}`;
  }

  // Built by concatenation, not an array joined: every message names a dozen keys.
  private shop(shopId: string, ...parts: string[]): string {
    let key = this.shopPrefix(shopId);
    for (const part of parts) key += `:${part}`;
    return key;
  }

  private global(...parts: string[]): string {
    let key = this.prefix;
    for (const part of parts) key += `:${part}`;
    return key;
  }

  // Shops, owners, agents and tokens.
  shopRecord(shopId: string): string {
    return this.shop(shopId, 'shop');
  }
  allShops(): string {
    return this.global('shops');
  }
  token(tokenHash: string): string {
    return this.global('token', tokenHash);
  }
  agent(agentId: string): string {
    return this.global('agent', agentId);
  }
  allAgents(): string {
    return this.global('agents');
  }
  operator(operatorId: string): string {
    return this.global('operator', operatorId);
  }
  allOperators(): string {
    return this.global('operators');
  }
  auditLog(): string {
    return this.global('audit');
  }
  auditSequence(): string {
    return this.global('audit', 'seq');
  }
  shopAgents(shopId: string): string {
    return this.shop(shopId, 'agents');
  }
  /** One hash tag for every agent's stream, so one XREAD reads many (also on a Cluster). */
  agentEvents(agentId: string): string {
    return this.global('{agent-events}', agentId);
  }
  /** Wakes the readers of agents' streams (a new subscriber); the same hash tag, a name no agent has. */
  agentEventsWake(): string {
    return `${this.global('{agent-events}')}.wake`;
  }
  agentQuickPhrases(agentId: string): string {
    return this.global('agent', agentId, 'quick-phrases');
  }
  shopQuickPhrases(shopId: string): string {
    return this.shop(shopId, 'quick-phrases');
  }
  presenceStated(): string {
    return this.global('{presence}', 'stated');
  }
  presenceSeen(): string {
    return this.global('{presence}', 'seen');
  }
  presenceStreams(agentId: string): string {
    return this.global('{presence}', 'streams', agentId);
  }
  agentDay(agentId: string, day: string): string {
    return this.global('agent', agentId, 'd', day);
  }
  agentDayReplies(agentId: string, day: string): string {
    return `${this.agentDay(agentId, day)}:replies`;
  }
  /**
   * An agent's figures for one shop on that shop's own day, in the shop's slot:
   * the first-responder marker and the figures change in one script.
   */
  agentShopDay(agentId: string, shopId: string, day: string): string {
    return this.shop(shopId, 'agent', agentId, 'd', day);
  }
  /** The same figures as first kept, outside the shop's slot: still read, no longer written. */
  agentShopDayUntagged(agentId: string, shopId: string, day: string): string {
    return this.global('agent', agentId, 's', shopId, 'd', day);
  }
  agentShopDayReplies(agentId: string, shopId: string, day: string): string {
    return `${this.agentShopDay(agentId, shopId, day)}:replies`;
  }

  // Ingest.
  delivery(shopId: string, platform: string, eventId: string): string {
    return this.shop(shopId, 'seen', platform, eventId);
  }
  webhookRate(shopId: string): string {
    return this.shop(shopId, 'rate');
  }
  /** WeChat plain mode: the body hash a signed query was first used with. */
  signedQuery(shopId: string, queryHash: string): string {
    return this.shop(shopId, 'signed-query', queryHash);
  }

  // Conversations.
  conversation(
    shopId: string,
    buyerId: string,
    part: 'messages' | 'meta' | 'ids' | 'suggestions' | 'sessions',
  ): string {
    return this.shop(shopId, 'conv', Buffer.from(buyerId).toString('base64url'), part);
  }
  activeConversations(shopId: string): string {
    return this.shop(shopId, 'active');
  }
  suggestion(shopId: string, suggestionId: string): string {
    return this.shop(shopId, 'suggestion', suggestionId);
  }
  reply(shopId: string, replyId: string): string {
    return this.shop(shopId, 'reply', replyId);
  }
  repliesOf(shopId: string, conversationId: string): string {
    return this.shop(shopId, 'replies-of', conversationId);
  }
  /** The conversation's reply counter: each reply's place, the order it reaches the buyer in. */
  replySequence(shopId: string, conversationId: string): string {
    return this.shop(shopId, 'replies-seq', conversationId);
  }
  /** The reply an agent's Idempotency-Key made (KEY: the key's SHA-256, hex). */
  replyByKey(shopId: string, agentId: string, keyHash: string): string {
    return this.shop(shopId, 'reply-key', agentId, keyHash);
  }
  /** The shop's sends in flight (zset of holders by lease end): the per-shop send cap. */
  sendSlots(shopId: string): string {
    return this.shop(shopId, 'sending');
  }
  assignOwner(conversationId: string): string {
    return this.global('{assign}', 'owner', conversationId);
  }
  assignOpen(agentId: string): string {
    return this.global('{assign}', 'open', agentId);
  }

  // Metering.
  day(shopId: string, day: string, part: DayPart): string {
    return this.shop(shopId, shopSuffix.day(day, part));
  }
  month(shopId: string, month: string, part: MonthPart): string {
    return this.shop(shopId, shopSuffix.month(month, part));
  }
  /** Every reply, consultation and paid order of the shop by buyer (length-prefixed) and time. */
  shopReplies(shopId: string): string {
    return this.shop(shopId, 'ix', 'replies');
  }
  consultIndex(shopId: string): string {
    return this.shop(shopId, 'ix', 'consults');
  }
  buyerOrders(shopId: string, buyerId: string): string {
    return this.shop(shopId, 'buyer', Buffer.from(buyerId).toString('base64url'), 'orders');
  }
  buyerRatings(shopId: string, buyerId: string): string {
    return this.shop(shopId, 'buyer', Buffer.from(buyerId).toString('base64url'), 'ratings');
  }
  orderIndex(shopId: string): string {
    return this.shop(shopId, 'ix', 'orders');
  }
  /** The three indexes and the older keys they replace (`buyer NUL …`, drained by the meter). */
  meterIndexes(shopId: string): string[] {
    return [
      this.shopReplies(shopId),
      this.consultIndex(shopId),
      this.orderIndex(shopId),
      this.shop(shopId, 'replies'),
      this.shop(shopId, 'consults'),
      this.shop(shopId, 'orders', 'idx'),
    ];
  }

  // Billing.
  finalInvoice(shopId: string, month: string): string {
    return this.shop(shopId, 'inv', month);
  }
  invoiceMonths(shopId: string): string {
    return this.shop(shopId, 'invoices');
  }
  lateMonths(shopId: string): string {
    return this.shop(shopId, 'late');
  }
  lateCarried(shopId: string): string {
    return this.shop(shopId, 'lateCarried');
  }
  monthClose(month: string): string {
    return this.global('billing', 'close', month);
  }
  monthCloseDone(month: string): string {
    return this.global('billing', 'close', month, 'done');
  }

  // The storefront widget.
  widget(widgetKey: string): string {
    return this.global('widget', widgetKey);
  }
  widgetMailbox(): string {
    return this.global('widget-mailbox');
  }
  widgetIpRate(ip: string): string {
    return this.global('widget-ip', ip);
  }
  widgetSessionRate(ip: string): string {
    return this.global('widget-sessions', ip);
  }
  widgetBuyerRate(shopId: string, buyerId: string): string {
    return this.shop(shopId, 'widget-buyer-rate', buyerId);
  }

  /** One principal's calls of one budget this minute (suggest, reply, read). */
  principalRate(principal: string, budget: string): string {
    return this.global('rate', budget, principal);
  }

  /** Platform access tokens shared by workers (the cache appends its own names). */
  platformTokens(): string {
    return `${this.global('{tokens}')}:`;
  }

  /** A timed queue's armed timers (see src/pipeline/due-timers.ts), in its queue's slot. */
  dueTimers(queueName: string): string {
    return `${this.queuePrefix(queueName)}:timers:${queueName}`;
  }

  /**
   * BullMQ's prefix of one queue (or inbound partition), hash-tagged so the
   * queue's keys share a slot. On a Cluster each queue has a tag of its own,
   * so queues (and inbound partitions) spread over the nodes; on one Redis
   * every queue keeps the one tag it always had, so jobs already queued,
   * delayed or failed there are still found after an upgrade.
   */
  queuePrefix(queueName: string): string {
    return this.clustered ? `{${this.prefix}-q:${queueName}}` : `{${this.prefix}-q}`;
  }
}

export interface KeyFamily {
  key: string;
  type: string;
  what: string;
}

/** Every key family, as docs/architecture.md lists them (prefix `sm`, shop `SHOP`). */
export const REDIS_LAYOUT: readonly KeyFamily[] = [
  { key: '`sm:{s:SHOP}:shop`', type: 'hash', what: 'the shop; `credentials` sealed' },
  { key: '`sm:shops`', type: 'set', what: 'every shop id' },
  { key: '`sm:token:SHA256`', type: 'string', what: 'owner key / agent token → principal' },
  {
    key: '`sm:agent:ID`, `sm:{s:SHOP}:agents`, `sm:agents`',
    type: 'hash, set, set',
    what: 'an agent; the agents serving a shop; every agent',
  },
  { key: '`sm:operator:ID`, `sm:operators`', type: 'hash, set', what: 'named operators' },
  {
    key: '`sm:audit`, `sm:audit:seq`',
    type: 'zset by time, counter',
    what: "the operators' audit log (append-only, trimmed after `AUDIT_RETENTION_DAYS`)",
  },
  {
    key: '`sm:{agent-events}:ID`, `sm:{agent-events}.wake`',
    type: 'stream, stream',
    what: "the agent's live events (one hash tag: one XREAD reads every agent's); wake-ups of that read",
  },
  {
    key: '`sm:{s:SHOP}:buyer:BUYER:orders` / `:ratings`',
    type: 'hash, hash',
    what: "one buyer's paid orders and ratings by id, for the agent's buyer context",
  },
  {
    key: '`sm:{s:SHOP}:quick-phrases`, `sm:agent:ID:quick-phrases`',
    type: 'hash, hash',
    what: "quick phrases (id → JSON): a shop's, an agent's own",
  },
  {
    key: '`sm:{presence}:stated`, `sm:{presence}:seen`, `sm:{presence}:streams:AGENT`',
    type: 'hash, zset, zset',
    what: "agents' stated presence; when each was last seen; an agent's open streams (cap)",
  },
  {
    key: '`sm:{s:SHOP}:agent:ID:d:DAY`, `…:replies`',
    type: 'hash, set',
    what: "an agent's figures per shop on the shop's own day; reply ids counted",
  },
  {
    key: '`sm:agent:ID:s:SHOP:d:DAY`, `sm:agent:ID:d:DAY`',
    type: 'hash, hash',
    what: 'the same figures as kept before (outside the shop slot; before per-shop keys): read only',
  },
  { key: '`sm:{s:SHOP}:seen:PLATFORM:EVENT`', type: 'string, 72 h', what: 'webhook dedupe' },
  {
    key: '`sm:{s:SHOP}:rate`',
    type: 'counter, 60 s',
    what: 'per-shop webhook events this minute (quota and fair share)',
  },
  {
    key: '`sm:{s:SHOP}:signed-query:SHA256`',
    type: 'string, 600 s',
    what: 'WeChat plain mode: the body hash a signed query was first used with',
  },
  {
    key: '`sm:{s:SHOP}:conv:BUYER:messages` / `:meta` / `:ids` / `:suggestions` / `:sessions`',
    type: 'zset / hash / set / string / list',
    what: 'conversation (BUYER in base64url)',
  },
  { key: '`sm:{s:SHOP}:active`', type: 'zset', what: 'active conversations by last activity' },
  {
    key: '`sm:{s:SHOP}:suggestion:ID`, `sm:{s:SHOP}:reply:ID`, `sm:{s:SHOP}:replies-of:CONV`, `sm:{s:SHOP}:replies-seq:CONV`',
    type: 'string (JSON), string (JSON), zset, counter',
    what: "a suggestion shown; a reply and its status (30 d); a conversation's recent replies; its reply counter (the order they reach the buyer in)",
  },
  {
    key: '`sm:{s:SHOP}:reply-key:AGENT:KEY`',
    type: 'string, 24 h',
    what: "the reply an agent's Idempotency-Key made (KEY hashed), or `pending` while it is made",
  },
  {
    key: '`sm:rate:BUDGET:PRINCIPAL`',
    type: 'counter, 60 s',
    what: "an agent's or owner's suggestions, replies or reads this minute",
  },
  {
    key: '`sm:{s:SHOP}:sending`',
    type: 'zset, lease',
    what: "the shop's sends in flight (`OUTBOUND_SENDS_PER_SHOP` at most)",
  },
  {
    key: '`sm:{assign}:owner:CONV`, `sm:{assign}:open:AGENT`',
    type: 'string / set',
    what: 'assignment',
  },
  {
    key: '`sm:{s:SHOP}:d:DAY:buyers` / `:agents` / `:first` / `:frt` / `:converted` / `:firstResponder`',
    type: 'sets, hashes',
    what: 'consultation meter facts per day',
  },
  {
    key: '`sm:{s:SHOP}:ix:replies`, `sm:{s:SHOP}:ix:consults`, `sm:{s:SHOP}:ix:orders`',
    type: 'sorted sets (lex)',
    what: 'every reply, consultation and paid order of the shop, by buyer (length-prefixed) and time',
  },
  {
    key: '`sm:{s:SHOP}:replies`, `sm:{s:SHOP}:consults`, `sm:{s:SHOP}:orders:idx`',
    type: 'sorted sets (lex)',
    what: 'the same before the length prefix (`buyer NUL …`): read, and drained by the meter, until empty',
  },
  {
    key: '`sm:{s:SHOP}:m:MONTH:agg`',
    type: 'hash',
    what: 'every daily and monthly figure of a month (fields: `src/metering/month-aggregate.ts`)',
  },
  {
    key: '`sm:{s:SHOP}:m:MONTH:orders` / `:ratings` / `:attributed` / `:overtime`',
    type: 'hash',
    what: 'commerce events by id; attributed orders; overtime hours by day',
  },
  {
    key: '`sm:{s:SHOP}:inv:MONTH`, `sm:{s:SHOP}:invoices`',
    type: 'string (SET NX), zset',
    what: 'final invoices',
  },
  {
    key: '`sm:{s:SHOP}:m:MONTH:closing` / `:late`, `sm:{s:SHOP}:late`, `sm:{s:SHOP}:lateCarried`',
    type: 'string, sets, hash',
    what: 'late events after a close began, and what was carried onto later invoices',
  },
  {
    key: '`sm:billing:close:MONTH`, `sm:billing:close:MONTH:done`',
    type: 'hash, set',
    what: 'a month close run; shops already closed, so a rerun resumes',
  },
  { key: '`sm:widget:KEY`', type: 'string', what: 'widget key → shop (web platform)' },
  {
    key: '`sm:widget-mailbox`',
    type: 'pub/sub channel',
    what: "agents' replies for buyers' open widgets",
  },
  {
    key: '`sm:widget-ip:IP`, `sm:widget-sessions:IP`, `sm:{s:SHOP}:widget-buyer-rate:BUYER`',
    type: 'counter, 60 s',
    what: 'widget rate limits',
  },
  { key: '`sm:{tokens}:NAME`', type: 'string', what: 'platform access tokens shared by workers' },
  {
    key: '`{sm-q}:timers:alerts`, `{sm-q}:timers:idle`',
    type: 'zset by due time',
    what: "armed alerts and closes (member: the job to queue when due); on a Cluster in their queue's slot",
  },
  {
    key: '`{sm-q}:inbound…`, `:inbound-N…`, `:outbound…`, `:alerts…`, `:idle…`, `:billing…`',
    type: 'BullMQ',
    what: 'queues (src/pipeline/queues.ts); on a Cluster each under its own tag: `{sm-q:inbound}:inbound…`',
  },
];

/** The layout as the Markdown table docs/architecture.md carries. */
export function redisLayoutTable(): string {
  return [
    '| key | type | what |',
    '| --- | --- | --- |',
    ...REDIS_LAYOUT.map((f) => `| ${f.key} | ${f.type} | ${f.what} |`),
  ].join('\n');
}
