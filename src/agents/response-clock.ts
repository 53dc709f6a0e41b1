import type { RedisConnection, RedisKeys } from '../shared/redis';
import { defineScript, prepareScripts } from '../shared/redis-scripts';
import { dayOf } from '../shared/shop-calendar';
import type { ReplyOrigin } from './reply-store';

/** The source asks agents to type at least 50 Chinese characters a minute. */
export const TYPING_CHARS_PER_MINUTE = 50;
/** The 3-minute response rate counts consultations answered within this. */
export const WITHIN_SECONDS = 180;

export interface AgentDayFigures {
  date: string;
  consultationsAnswered: number;
  averageFirstResponseSeconds: number | null;
  within3MinRate: number | null;
  replies: { suggestionAsIs: number; suggestionEdited: number; own: number };
  typingSecondsSaved: number;
}

// Records the first response to a consultation once: KEYS[1] = marker hash
// (buyer -> agent), KEYS[2] = the agent's day figures; ARGV = buyer, agent,
// response ms, within flag.
const FIRST_RESPONSE_SCRIPT = defineScript<number>(
  'agentFirstResponse',
  `
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[2], 'answered', 1)
redis.call('HINCRBY', KEYS[2], 'frtSumMs', ARGV[3])
redis.call('HINCRBY', KEYS[2], 'within', ARGV[4])
return 1
`,
  { inTransactions: true },
);

// Counts a reply once, however often its bookkeeping is retried. KEYS[1] =
// the day's set of counted reply ids, KEYS[2] = the day's figures.
const REPLY_COUNT_SCRIPT = defineScript<number>(
  'agentReplyCount',
  `
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('EXPIRE', KEYS[1], 2764800)
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
if tonumber(ARGV[3]) > 0 then redis.call('HINCRBY', KEYS[2], 'savedMs', ARGV[3]) end
return 1
`,
  { inTransactions: true },
);

/**
 * Per-agent response figures: first response time per consultation, the
 * 3-minute rate, how replies were written, and the typing time suggestions
 * saved. Shop-level figures come from the consultation meter.
 */
export class ResponseClock {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
  ) {}

  /**
   * Call when a reply reached the buyer. `consultationStart` is the
   * consultation's first buyer message; only the first reply to it counts.
   */
  async recordReply(input: {
    replyId: string;
    shopId: string;
    timezone: string;
    buyerId: string;
    agentId: string;
    text: string;
    origin: ReplyOrigin;
    sentAt: number;
    consultationStart?: number;
  }): Promise<void> {
    const day = dayOf(input.sentAt, input.timezone);
    const figures = this.keys.agentShopDay(input.agentId, input.shopId, day);
    const originField = { suggestion_as_is: 'asIs', suggestion_edited: 'edited', own: 'own' }[
      input.origin
    ];
    // Characters the agent did not have to type, at the source's 50 per minute.
    const savedMs =
      input.origin === 'suggestion_as_is'
        ? Math.round(([...input.text].length * 60_000) / TYPING_CHARS_PER_MINUTE)
        : 0;
    const tx = prepareScripts(this.redis).multi();
    REPLY_COUNT_SCRIPT.queue(
      tx,
      [this.keys.agentShopDayReplies(input.agentId, input.shopId, day), figures],
      [input.replyId, originField, String(savedMs)],
    );
    if (input.consultationStart !== undefined && input.sentAt >= input.consultationStart) {
      const consultationDay = dayOf(input.consultationStart, input.timezone);
      const responseMs = input.sentAt - input.consultationStart;
      FIRST_RESPONSE_SCRIPT.queue(
        tx,
        [
          this.keys.day(input.shopId, consultationDay, 'firstResponder'),
          this.keys.agentShopDay(input.agentId, input.shopId, consultationDay),
        ],
        [
          input.buyerId,
          input.agentId,
          String(responseMs),
          responseMs <= WITHIN_SECONDS * 1000 ? '1' : '0',
        ],
      );
    }
    await tx.exec();
  }

  /**
   * The agent's figures for a day, summed over their shops, each shop counted
   * on its own day: `today` is each shop's today in its time zone, a given
   * date is that date in each shop's calendar. `byShop` keeps the parts.
   */
  async figures(
    agentId: string,
    shops: Array<{ id: string; timezone: string }>,
    when: { now: number } | { date: string },
  ): Promise<AgentDayFigures & { byShop: Array<{ shopId: string } & AgentDayFigures> }> {
    const dayFor = (timezone: string) => ('date' in when ? when.date : dayOf(when.now, timezone));
    const parts = await Promise.all(
      shops.map(async (shop) => {
        const day = dayFor(shop.timezone);
        const [raw, untagged] = await Promise.all([
          this.redis.hgetall(this.keys.agentShopDay(agentId, shop.id, day)),
          // Figures written before the keys moved into the shop's slot.
          this.redis.hgetall(this.keys.agentShopDayUntagged(agentId, shop.id, day)),
        ]);
        return { shopId: shop.id, day, raw: [raw, untagged] };
      }),
    );
    // Figures recorded before they were kept per shop (one hash per agent and day).
    const legacyDays = [...new Set(parts.map((p) => p.day))];
    const legacy = await Promise.all(
      legacyDays.map((day) => this.redis.hgetall(this.keys.agentDay(agentId, day))),
    );
    const date = 'date' in when ? when.date : (parts[0]?.day ?? dayOf(when.now, 'Asia/Shanghai'));
    return {
      ...toFigures(date, [...parts.flatMap((p) => p.raw), ...legacy]),
      byShop: parts.map((p) => ({ shopId: p.shopId, ...toFigures(p.day, p.raw) })),
    };
  }
}

function toFigures(date: string, hashes: Array<Record<string, string>>): AgentDayFigures {
  const n = (field: string) => hashes.reduce((sum, raw) => sum + Number(raw[field] ?? '0'), 0);
  const answered = n('answered');
  return {
    date,
    consultationsAnswered: answered,
    averageFirstResponseSeconds: answered ? Math.round(n('frtSumMs') / answered / 100) / 10 : null,
    within3MinRate: answered ? Math.round((n('within') / answered) * 1000) / 1000 : null,
    replies: { suggestionAsIs: n('asIs'), suggestionEdited: n('edited'), own: n('own') },
    typingSecondsSaved: Math.round(n('savedMs') / 1000),
  };
}
