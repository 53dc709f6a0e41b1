import type { Queue } from 'bullmq';
import { productsNamedIn } from '../assist/catalog-options';
import {
  type ConversationStore,
  conversationId,
  parseConversationId,
} from '../conversations/conversation-store';
import type { CommerceEvents } from '../metering/commerce-events';
import type { OutboundJob } from '../pipeline/queues';
import type { MessageMedia, PlatformName } from '../platforms/contract';
import { REPLY_LIMITS, type ReplyLimit, replyLength } from '../platforms/reply-limits';
import type { Clock } from '../shared/clock';
import { AppError, conflict, notFound, unavailable } from '../shared/errors';
import type { ShopRegistry } from '../shops/shop-registry';
import { channelOf } from '../shops/shop-schema';
import type { AgentEvents } from './agent-events';
import type { AgentRegistry } from './agent-registry';
import type { Assignment } from './assignment';
import type { PresenceStatus } from './live-events';
import type { Presence } from './presence';
import type { Reply, ReplyOrigin, ReplyStore } from './reply-store';
import type { Routing } from './routing';
import type { SuggestionIndex } from './suggestion-index';

export interface SignedInAgent {
  agentId: string;
  name: string;
  shopIds: string[];
}

/** Orders shown beside the chat; the count and total cover them all. */
const CONTEXT_ORDERS = 20;
/** Messages read for the products a conversation mentions. */
const CONTEXT_HISTORY = 50;

export interface BuyerContext {
  conversationId: string;
  shopId: string;
  /** The shop's time zone, to show paid times as the shop sees them. */
  timezone: string;
  buyer: { id: string; name: string | null };
  /** Paid orders, newest first (at most 20); amounts in fen. */
  orders: Array<{ orderId: string; amountFen: number; paidAt: string }>;
  orderCount: number;
  totalPaidFen: number;
  /** The buyer's latest rating of the shop. */
  rating: { score: number; ratedAt: string } | null;
  /** Earlier, closed conversations with this shop, newest first. */
  earlierConversations: Array<{
    startedAt: string;
    closedAt: string;
    messageCount: number;
    lastMessage: { from: string; text: string; at: string };
  }>;
  /** Catalog products this conversation mentions, in catalog order. */
  products: Array<{ id: string; name: string; options: Record<string, string[]> }>;
  /** The page the buyer is on (storefront widget's setContext), or null. */
  page: { productId?: string; productName?: string; url?: string; at: string } | null;
}

export interface ConversationSummary {
  conversationId: string;
  /** `channel`: the marketplace a generic shop is bridged from, else the platform itself. */
  shop: { id: string; name: string; platform: string; channel: string; timezone: string };
  buyer: { id: string; name: string | null };
  waiting: boolean;
  waitingSince: string | null;
  secondsWaiting: number;
  slowReplySeconds: number;
  assignedTo: { agentId: string; name: string } | null;
  lastMessages: Array<{
    id: string;
    from: string;
    text: string;
    at: string;
    agentName?: string;
    stale?: boolean;
    /** Who wrote a buyer message in a group or topic. */
    author?: { id: string; name?: string };
    /** An image, voice, video, file, sticker or location (see docs/platforms.md). */
    media?: MessageMedia;
  }>;
  /** `direct`, `group` or `topic`: a shared thread's replies are read by all its members. */
  thread: string;
  /** The longest reply the platform takes in one message, for the composer's remaining-length counter. */
  replyLimit: ReplyLimit;
  suggestions: Array<{ id: string; text: string; tactic: string }>;
  /** Replies not (yet) delivered: queued, or failed with the platform's words. */
  undeliveredReplies: Array<{
    replyId: string;
    agentName: string | null;
    text: string;
    status: string;
    error: string | null;
    createdAt: string;
  }>;
  stage: string | null;
  lastActivityAt: string | null;
}

/**
 * The conversation an agent may see: one of a shop they serve now. Anything
 * else is "not found", so ids of other tenants' conversations give nothing away.
 */
export function visibleConversation(
  agent: SignedInAgent,
  id: string,
): { shopId: string; buyerId: string } {
  const parsed = parseConversationId(id);
  if (!agent.shopIds.includes(parsed.shopId)) throw notFound('Conversation');
  return parsed;
}

/**
 * The agent's use cases: see the conversations of their shops, claim one,
 * reply (queued to the platform), follow a reply, close a conversation.
 */
export class Workspace {
  constructor(
    private readonly deps: {
      shops: ShopRegistry;
      agents: AgentRegistry;
      conversations: ConversationStore;
      assignment: Assignment;
      replies: ReplyStore;
      suggestionIndex: SuggestionIndex;
      events: AgentEvents;
      presence: Presence;
      routing: Routing;
      commerce: CommerceEvents;
      outbound: Queue<OutboundJob>;
      clock: Clock;
    },
  ) {}

  /** Every active conversation across the agent's shops, longest-waiting first. */
  async conversations(agent: SignedInAgent, lastMessages = 5): Promise<ConversationSummary[]> {
    const out: ConversationSummary[] = [];
    for (const shopId of agent.shopIds) {
      const shop = await this.deps.shops.get(shopId);
      if (!shop) continue;
      // The latest 200, and the longest waits behind them (at most 200 more: a list, not a dump).
      const { recent, waitingBehind } = await this.deps.conversations.activeAndWaiting(shopId);
      const buyers = [...recent, ...waitingBehind.slice(0, 200).map((w) => w.buyerId)];
      for (const buyerId of buyers) out.push(await this.summary(shop, buyerId, lastMessages));
    }
    return out.sort((a, b) => {
      if (a.waiting !== b.waiting) return a.waiting ? -1 : 1;
      if (a.waiting) return b.secondsWaiting - a.secondsWaiting;
      return (b.lastActivityAt ?? '').localeCompare(a.lastActivityAt ?? '');
    });
  }

  async conversation(agent: SignedInAgent, id: string, history = 50): Promise<ConversationSummary> {
    const { shopId, buyerId } = this.visible(agent, id);
    return this.summary(await this.deps.shops.require(shopId), buyerId, history);
  }

  /**
   * Atomic: two agents never both hold one buyer. An online agent may take a
   * colleague's buyer only when the colleague is away or offline, or when the
   * buyer has waited past the shop's slowReplySeconds.
   */
  async claim(agent: SignedInAgent, id: string): Promise<void> {
    const { shopId, buyerId } = await this.existing(agent, id);
    const { assignment, agents, events, presence } = this.deps;
    // Nothing would ever free a closed conversation's slot again (the idle close skips it).
    if ((await this.deps.conversations.state(shopId, buyerId)).closedAt !== undefined)
      throw conflict(
        'conversation_closed',
        'This conversation is closed; it opens again when the buyer writes.',
      );
    const before = await assignment.ownerOf(id);
    const result = await assignment.claim(id, agent.agentId);
    let reason = 'claimed';
    if (!result.claimed) {
      const holder = await agents.get(result.heldBy);
      // A holder who left the shop (or was revoked) no longer blocks the conversation.
      if (holder?.shopIds.includes(shopId)) {
        const shop = await this.deps.shops.require(shopId);
        const state = await this.deps.conversations.state(shopId, buyerId);
        const slow =
          state.waitingSince !== undefined &&
          this.deps.clock.now() - state.waitingSince > shop.settings.slowReplySeconds * 1000;
        const [holderStatus, myStatus] = await Promise.all([
          presence.statusOf(holder.id),
          presence.statusOf(agent.agentId),
        ]);
        const absent = holderStatus !== 'online';
        if (
          myStatus !== 'online' ||
          !(absent || slow) ||
          !(await assignment.move(id, holder.id, agent.agentId))
        )
          throw new AppError(
            409,
            'conversation_taken',
            `${holder.name} is already answering this buyer.`,
            { details: { agentId: holder.id, agentName: holder.name } },
          );
        reason = absent ? holderStatus : 'slow_reply';
      } else if (!(await assignment.move(id, result.heldBy, agent.agentId))) {
        // A colleague took it from the departed holder first: judge their hold instead.
        return this.claim(agent, id);
      }
    }
    // Replying claims too; only a change of hands is news to the other agents.
    if (before !== agent.agentId)
      await events.publish(shopId, 'conversation', {
        conversationId: id,
        change: 'assigned',
        agentId: agent.agentId,
        fromAgentId: before,
        reason,
      });
  }

  /** The holder hands the buyer to a colleague of the shop, with an optional note. */
  async transfer(
    agent: SignedInAgent,
    id: string,
    input: { toAgentId: string; note?: string },
  ): Promise<{ conversationId: string; agentId: string }> {
    const { shopId } = this.visible(agent, id);
    const owner = await this.deps.assignment.ownerOf(id);
    if (owner !== agent.agentId)
      throw new AppError(
        409,
        'not_holder',
        'Only the agent answering this buyer can transfer them.',
        {
          details: { heldBy: owner },
        },
      );
    const target = await this.deps.agents.get(input.toAgentId);
    if (!target?.shopIds.includes(shopId)) throw notFound('Agent');
    if (target.id === agent.agentId)
      throw new AppError(
        400,
        'invalid_transfer',
        'toAgentId: you already hold this conversation.',
        {
          details: { field: 'toAgentId' },
        },
      );
    if (!(await this.deps.assignment.move(id, agent.agentId, target.id)))
      throw new AppError(
        409,
        'not_holder',
        'Only the agent answering this buyer can transfer them.',
      );
    await this.deps.events.publish(shopId, 'conversation', {
      conversationId: id,
      change: 'transferred',
      agentId: target.id,
      fromAgentId: agent.agentId,
      fromAgentName: agent.name,
      note: input.note ?? null,
    });
    return { conversationId: id, agentId: target.id };
  }

  /**
   * An operator (admin or supervisor) moves a buyer to an agent of the shop,
   * whoever holds the buyer now (a drowning or absent agent), or nobody.
   */
  async transferAsOperator(
    operatorName: string,
    id: string,
    input: { toAgentId: string; note?: string },
  ): Promise<{ conversationId: string; agentId: string }> {
    const { shopId, buyerId } = parseConversationId(id);
    if (!(await this.deps.conversations.exists(shopId, buyerId))) throw notFound('Conversation');
    const target = await this.deps.agents.get(input.toAgentId);
    if (!target?.shopIds.includes(shopId)) throw notFound('Agent');
    const { assignment } = this.deps;
    const owner = await assignment.ownerOf(id);
    if (owner !== target.id) {
      const moved = owner
        ? await assignment.move(id, owner, target.id)
        : (await assignment.claim(id, target.id)).claimed;
      if (!moved)
        throw new AppError(
          409,
          'conversation_changed',
          'The conversation changed hands meanwhile; reload the desk and try again.',
        );
    }
    await this.deps.events.publish(shopId, 'conversation', {
      conversationId: id,
      change: 'transferred',
      agentId: target.id,
      fromAgentId: owner,
      fromAgentName: operatorName,
      note: input.note ?? null,
    });
    return { conversationId: id, agentId: target.id };
  }

  /**
   * What the agent should know beside the chat: the buyer's paid orders and
   * rating (from the shop's order and rating events), their earlier
   * conversations with this shop, and the catalog products this one mentions.
   */
  async context(agent: SignedInAgent, id: string): Promise<BuyerContext> {
    const { shopId, buyerId } = this.visible(agent, id);
    const shop = await this.deps.shops.require(shopId);
    const [state, history, orders, ratings, sessions] = await Promise.all([
      this.deps.conversations.state(shopId, buyerId),
      this.deps.conversations.history(shopId, buyerId, CONTEXT_HISTORY),
      this.deps.commerce.ordersOf(shopId, buyerId),
      this.deps.commerce.ratingsOf(shopId, buyerId),
      this.deps.conversations.sessions(shopId, buyerId),
    ]);
    const iso = (ms: number) => new Date(ms).toISOString();
    const latest = ratings[0];
    return {
      conversationId: id,
      shopId,
      timezone: shop.timezone,
      buyer: { id: buyerId, name: state.buyerName ?? null },
      orders: orders
        .slice(0, CONTEXT_ORDERS)
        .map((o) => ({ orderId: o.orderId, amountFen: o.amountFen, paidAt: iso(o.paidAt) })),
      orderCount: orders.length,
      totalPaidFen: orders.reduce((sum, o) => sum + o.amountFen, 0),
      rating: latest ? { score: latest.score, ratedAt: iso(latest.ratedAt) } : null,
      earlierConversations: sessions.map((s) => ({
        startedAt: iso(s.startedAt),
        closedAt: iso(s.closedAt),
        messageCount: s.messageCount,
        lastMessage: {
          from: s.lastMessage.from,
          text: s.lastMessage.text,
          at: iso(s.lastMessage.at),
        },
      })),
      products: productsNamedIn(
        shop.catalog,
        history.map((m) => m.text),
      ).map((p) => ({ id: p.id, name: p.name, options: p.options })),
      page: state.pageContext ?? null,
    };
  }

  /** The other agents of one of my shops with their presence, online and least loaded first. */
  async colleagues(
    agent: SignedInAgent,
    shopId: string,
  ): Promise<
    Array<{ id: string; name: string; status: PresenceStatus; openConversations: number }>
  > {
    if (!agent.shopIds.includes(shopId)) throw notFound('Shop');
    const ids = (await this.deps.agents.agentsOfShop(shopId)).filter((a) => a !== agent.agentId);
    const [statuses, counts, records] = await Promise.all([
      this.deps.presence.statuses(ids),
      this.deps.assignment.openCounts(ids),
      Promise.all(ids.map((a) => this.deps.agents.get(a))),
    ]);
    const rank: Record<PresenceStatus, number> = { online: 0, away: 1, offline: 2 };
    return ids
      .map((a, i) => ({
        id: a,
        name: records[i]?.name ?? '',
        status: statuses.get(a) ?? ('offline' as const),
        openConversations: counts[i] ?? 0,
      }))
      .filter((c) => records[ids.indexOf(c.id)] !== null)
      .sort(
        (x, y) =>
          rank[x.status] - rank[y.status] ||
          x.openConversations - y.openConversations ||
          x.name.localeCompare(y.name),
      );
  }

  /** The agent states their presence; going away or offline hands their waiting buyers over. */
  async setPresence(agent: SignedInAgent, status: PresenceStatus): Promise<PresenceStatus> {
    const before = await this.deps.presence.statusOf(agent.agentId);
    await this.deps.presence.state(agent.agentId, status);
    if (before !== status) await this.deps.routing.presenceChanged(agent.agentId, status);
    else if (status === 'online') await this.deps.routing.pickUp(agent.agentId);
    return status;
  }

  /**
   * Closes a conversation. `seenBuyerAt`: the newest buyer message the agent
   * had on screen; a newer one (the buyer wrote as the agent clicked) is a 409
   * and the conversation stays open, so the buyer is not left waiting unseen.
   */
  async close(agent: SignedInAgent, id: string, seenBuyerAt?: number): Promise<void> {
    const { shopId, buyerId } = await this.existing(agent, id);
    // Already closed (a retried close, or it idled): nothing to close or announce, but a hold
    // left on it (an earlier version let a claim or reply take a closed conversation) is freed.
    const { assignment, conversations } = this.deps;
    if ((await conversations.state(shopId, buyerId)).closedAt !== undefined) {
      // Only the hold seen while it is still closed: a buyer who wrote again since reopened
      // it, and whoever took it then keeps it.
      const owner = await assignment.ownerOf(id);
      if (owner && (await conversations.state(shopId, buyerId)).closedAt !== undefined)
        await assignment.releaseIf(id, owner);
      return;
    }
    await this.claim(agent, id);
    if (!(await this.deps.conversations.close(shopId, buyerId, this.deps.clock.now(), seenBuyerAt)))
      throw conflict(
        'buyer_wrote_again',
        'The buyer wrote again after the messages you saw; read the new message before closing.',
      );
    await this.deps.assignment.release(id);
    await this.deps.events.publish(shopId, 'conversation', {
      conversationId: id,
      change: 'closed',
      agentId: agent.agentId,
    });
  }

  /**
   * Queues an agent's reply. With an `idempotencyKey` (the client's
   * Idempotency-Key), a retry of the same send, after a lost answer, say, is
   * answered with the reply the first made (`replayed`) instead of sending the
   * buyer the same words twice.
   */
  async reply(
    agent: SignedInAgent,
    id: string,
    input: { text: string; suggestionId?: string },
    idempotencyKey?: string,
  ): Promise<Reply & { replayed?: true }> {
    const { shopId, buyerId } = await this.existing(agent, id);
    const shop = await this.deps.shops.require(shopId);
    const limit = REPLY_LIMITS[shop.platform];
    const length = replyLength(input.text, limit);
    // Refused before queueing: the platform would refuse it for good after the agent moved on.
    if (length > limit.max)
      throw new AppError(
        400,
        'reply_too_long',
        `text: ${shop.platform} accepts at most ${limit.max} ${limit.unit} in one message; this reply has ${length}. Shorten it or send it in parts.`,
        { details: { field: 'text', max: limit.max, unit: limit.unit, length } },
      );
    let origin: ReplyOrigin = 'own';
    if (input.suggestionId) {
      const suggestion = await this.deps.suggestionIndex.get(shopId, input.suggestionId);
      if (!suggestion || suggestion.conversationId !== id) {
        throw new AppError(
          400,
          'unknown_suggestion',
          'suggestionId: no such suggestion was shown for this conversation.',
          { details: { field: 'suggestionId' } },
        );
      }
      origin = suggestion.text === input.text ? 'suggestion_as_is' : 'suggestion_edited';
    }
    const { replies } = this.deps;
    if (idempotencyKey !== undefined) {
      const made = await replies.takeKey(shopId, agent.agentId, idempotencyKey);
      if (made !== null) return this.replayed(shopId, id, input.text, made);
      // The key names the reply as soon as its job is queued: whatever fails after that (the
      // live event, this answer), a retry must answer with it, not queue the words again.
      let queued: string | undefined;
      const settle = (replyId: string) =>
        replies.settleKey(shopId, agent.agentId, idempotencyKey, replyId);
      try {
        const replyId = replies.replyIdFor(shopId, agent.agentId, idempotencyKey);
        const reply = await this.queueReply(agent, id, shopId, buyerId, input, origin, {
          replyId,
          onQueued: (queuedId) => {
            queued = queuedId;
            return settle(queuedId);
          },
        });
        // Made by an earlier try whose key was lost: answered like any replay.
        if (reply.replayed) {
          await settle(replyId);
          return this.replayed(shopId, id, input.text, replyId);
        }
        return reply;
      } catch (error) {
        if (queued === undefined)
          // No job was queued: the same key may send it again.
          await replies.releaseKey(shopId, agent.agentId, idempotencyKey).catch(() => undefined);
        else await settle(queued).catch(() => undefined);
        throw error;
      }
    }
    return this.queueReply(agent, id, shopId, buyerId, input, origin);
  }

  /** The answer to a send already made with the same Idempotency-Key. */
  private async replayed(
    shopId: string,
    id: string,
    text: string,
    made: string,
  ): Promise<Reply & { replayed: true }> {
    const reply = made === 'pending' ? null : await this.deps.replies.get(shopId, made);
    if (made === 'pending' || !reply)
      throw new AppError(
        409,
        'reply_in_progress',
        'A reply with this Idempotency-Key is still being queued; ask again in a moment.',
        { headers: { 'Retry-After': '1' } },
      );
    if (reply.conversationId !== id || reply.text !== text)
      throw new AppError(
        422,
        'idempotency_key_reused',
        'This Idempotency-Key was used for another reply; use a new key for a new reply.',
        { details: { field: 'Idempotency-Key' } },
      );
    return { ...reply, replayed: true };
  }

  private async queueReply(
    agent: SignedInAgent,
    id: string,
    shopId: string,
    buyerId: string,
    input: { text: string; suggestionId?: string },
    origin: ReplyOrigin,
    keyed?: {
      /** The reply id its Idempotency-Key gives (ReplyStore.replyIdFor). */
      replyId: string;
      /** Called once the reply's job is queued, before anything else can fail. */
      onQueued: (replyId: string) => Promise<void>;
    },
  ): Promise<Reply & { replayed?: true }> {
    // A follow-up to a closed conversation (after an idle close, a reminder to pay) is sent
    // without taking it: nothing would free that slot again until the buyer writes.
    if ((await this.deps.conversations.state(shopId, buyerId)).closedAt === undefined)
      await this.claim(agent, id);
    const fields = {
      conversationId: id,
      shopId,
      buyerId,
      agentId: agent.agentId,
      text: input.text,
      suggestionId: input.suggestionId,
      origin,
      createdAt: this.deps.clock.now(),
    };
    let reply: Reply;
    if (keyed) {
      const made = await this.deps.replies.createOnce(fields, keyed.replyId);
      // An earlier try made it (its job queued, or it failed to queue and says so): not again.
      if (!made.created) return { ...made.reply, replayed: true };
      reply = made.reply;
    } else reply = await this.deps.replies.create(fields);
    try {
      await this.deps.outbound.add(
        'reply',
        { shopId, replyId: reply.replyId },
        { jobId: reply.replyId },
      );
    } catch (error) {
      // Never leave a reply "queued" with no job behind it.
      await this.deps.replies
        .update(shopId, reply.replyId, {
          status: 'failed',
          error: 'could not be queued; send it again',
          failedAt: this.deps.clock.now(),
        })
        .catch(() => undefined);
      throw unavailable('The reply could not be queued; send it again in a moment.', error);
    }
    await keyed?.onQueued(reply.replyId);
    await this.deps.events.publish(shopId, 'reply', {
      conversationId: id,
      replyId: reply.replyId,
      status: 'queued',
      agentId: agent.agentId,
    });
    return reply;
  }

  async replyStatus(agent: SignedInAgent, id: string, replyId: string): Promise<Reply> {
    const { shopId } = this.visible(agent, id);
    const reply = await this.deps.replies.get(shopId, replyId);
    if (!reply || reply.conversationId !== id) throw notFound('Reply');
    return reply;
  }

  /** Visible, and a buyer who actually wrote: nobody claims or messages an id that never did. */
  private async existing(
    agent: SignedInAgent,
    id: string,
  ): Promise<{ shopId: string; buyerId: string }> {
    const parsed = this.visible(agent, id);
    if (!(await this.deps.conversations.exists(parsed.shopId, parsed.buyerId)))
      throw notFound('Conversation');
    return parsed;
  }

  /** The conversation's shop must be one of the agent's; otherwise it does not exist for them. */
  private visible(agent: SignedInAgent, id: string): { shopId: string; buyerId: string } {
    return visibleConversation(agent, id);
  }

  private async summary(
    shop: {
      id: string;
      name: string;
      platform: string;
      channel?: string;
      timezone: string;
      settings: { slowReplySeconds: number };
    },
    buyerId: string,
    historyLength: number,
  ): Promise<ConversationSummary> {
    const id = conversationId(shop.id, buyerId);
    const [state, history, suggestions, ownerId, replies] = await Promise.all([
      this.deps.conversations.state(shop.id, buyerId),
      this.deps.conversations.history(shop.id, buyerId, historyLength),
      this.deps.conversations.suggestions(shop.id, buyerId),
      this.deps.assignment.ownerOf(id),
      this.deps.replies.recent(shop.id, id),
    ]);
    const owner = ownerId ? await this.deps.agents.get(ownerId) : null;
    const now = this.deps.clock.now();
    const last = history.at(-1);
    return {
      conversationId: id,
      shop: {
        id: shop.id,
        name: shop.name,
        platform: shop.platform,
        channel: channelOf(shop),
        timezone: shop.timezone,
      },
      buyer: { id: buyerId, name: state.buyerName ?? null },
      thread: state.threadKind ?? 'direct',
      replyLimit: REPLY_LIMITS[shop.platform as PlatformName] ?? REPLY_LIMITS.generic,
      waiting: state.waitingSince !== undefined,
      waitingSince:
        state.waitingSince !== undefined ? new Date(state.waitingSince).toISOString() : null,
      secondsWaiting:
        state.waitingSince !== undefined
          ? Math.max(0, Math.round((now - state.waitingSince) / 1000))
          : 0,
      slowReplySeconds: shop.settings.slowReplySeconds,
      assignedTo: owner ? { agentId: owner.id, name: owner.name } : null,
      lastMessages: history.map((m) => ({
        id: m.id,
        from: m.from,
        text: m.text,
        at: new Date(m.at).toISOString(),
        ...(m.agentName ? { agentName: m.agentName } : {}),
        ...(m.stale ? { stale: true } : {}),
        ...(m.media !== undefined ? { media: m.media } : {}),
        ...(m.author ? { author: m.author } : {}),
      })),
      // Suggestions answer the latest buyer message; once an agent has replied they are stale.
      suggestions: state.waitingSince !== undefined ? (suggestions?.suggestions ?? []) : [],
      // A failure stays in view until the buyer writes again; by then it answers an old question.
      undeliveredReplies: await Promise.all(
        replies
          .filter((r) => r.status !== 'sent' && r.createdAt >= (state.lastBuyerAt ?? 0))
          .map(async (r) => ({
            replyId: r.replyId,
            agentName: (await this.deps.agents.get(r.agentId))?.name ?? null,
            text: r.text,
            status: r.status,
            error: r.error ?? null,
            createdAt: new Date(r.createdAt).toISOString(),
          })),
      ),
      stage: suggestions?.stage ?? null,
      lastActivityAt: last ? new Date(last.at).toISOString() : null,
    };
  }
}
