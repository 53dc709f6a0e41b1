import type { Queue } from 'bullmq';
import {
  type ConversationStore,
  conversationId,
  parseConversationId,
} from '../conversations/conversation-store';
import type { OutboundJob } from '../pipeline/queues';
import type { PlatformName } from '../platforms/contract';
import { REPLY_LIMITS, type ReplyLimit, replyLength } from '../platforms/reply-limits';
import type { Clock } from '../shared/clock';
import { AppError, notFound, unavailable } from '../shared/errors';
import type { ShopRegistry } from '../shops/shop-registry';
import type { AgentEvents } from './agent-events';
import type { AgentRegistry } from './agent-registry';
import type { Assignment } from './assignment';
import type { Reply, ReplyOrigin, ReplyStore } from './reply-store';
import type { SuggestionIndex } from './suggestion-index';

export interface SignedInAgent {
  agentId: string;
  name: string;
  shopIds: string[];
}

export interface ConversationSummary {
  conversationId: string;
  shop: { id: string; name: string; platform: string };
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
    /** Who wrote a buyer message in a group or topic. */
    author?: { id: string; name?: string };
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
      for (const buyerId of await this.deps.conversations.activeBuyers(shopId)) {
        out.push(await this.summary(shop, buyerId, lastMessages));
      }
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

  /** Atomic: two agents never both hold one buyer. */
  async claim(agent: SignedInAgent, id: string): Promise<void> {
    const { shopId } = await this.existing(agent, id);
    const before = await this.deps.assignment.ownerOf(id);
    const result = await this.deps.assignment.claim(id, agent.agentId);
    if (!result.claimed) {
      const holder = await this.deps.agents.get(result.heldBy);
      // A holder who left the shop (or was revoked) no longer blocks the conversation.
      if (holder?.shopIds.includes(shopId)) {
        throw new AppError(
          409,
          'conversation_taken',
          `${holder.name} is already answering this buyer.`,
          {
            details: { agentId: holder.id, agentName: holder.name },
          },
        );
      }
      await this.deps.assignment.release(id);
      await this.deps.assignment.claim(id, agent.agentId);
    }
    // Replying claims too; only a change of hands is news to the other agents.
    if (before !== agent.agentId)
      await this.deps.events.publish(shopId, 'conversation', {
        conversationId: id,
        change: 'assigned',
        agentId: agent.agentId,
      });
  }

  async close(agent: SignedInAgent, id: string): Promise<void> {
    const { shopId, buyerId } = this.visible(agent, id);
    await this.claim(agent, id);
    await this.deps.conversations.close(shopId, buyerId, this.deps.clock.now());
    await this.deps.assignment.release(id);
    await this.deps.events.publish(shopId, 'conversation', {
      conversationId: id,
      change: 'closed',
      agentId: agent.agentId,
    });
  }

  async reply(
    agent: SignedInAgent,
    id: string,
    input: { text: string; suggestionId?: string },
  ): Promise<Reply> {
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
    await this.claim(agent, id);
    const reply = await this.deps.replies.create({
      conversationId: id,
      shopId,
      buyerId,
      agentId: agent.agentId,
      text: input.text,
      suggestionId: input.suggestionId,
      origin,
      createdAt: this.deps.clock.now(),
    });
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
    const parsed = parseConversationId(id);
    if (!agent.shopIds.includes(parsed.shopId)) throw notFound('Conversation');
    return parsed;
  }

  private async summary(
    shop: { id: string; name: string; platform: string; settings: { slowReplySeconds: number } },
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
      shop: { id: shop.id, name: shop.name, platform: shop.platform },
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
