import type { Assistant, AssistResult } from '../assist/assistant';
import { shopDefaultLocale } from '../assist/locale-detection';
import { conversationKey } from '../conversations/conversation-key';
import {
  type ConversationState,
  type ConversationStore,
  conversationId,
  type StoredMessage,
} from '../conversations/conversation-store';
import type { MessageEvent, OpenEvent } from '../platforms/contract';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Shop } from '../shops/shop-registry';
import type { AgentEvents } from './agent-events';
import type { AgentRegistry } from './agent-registry';
import type { Assignment } from './assignment';
import type { Routing } from './routing';
import type { SuggestionIndex } from './suggestion-index';

/** How much of the conversation the assist engine reads. */
const ASSIST_HISTORY = 20;

/** The feed's stages, as the pipeline metrics name them. */
export type FeedStage = 'assign' | 'assist' | 'publish';

/** What the inbound processor knows about a buyer message when it hands it to the feed. */
export interface BuyerMessageContext {
  /** Arrived long after it was sent: history only, never a live wait. */
  stale: boolean;
  /** The message's effective sent time (ms), as stored. */
  at: number;
  /** The conversation's state after the message was stored, when the caller has it. */
  state?: Pick<ConversationState, 'waitingSince' | 'buyerName'>;
  /** Records the end of a stage (ms since the previous one), for the pipeline metrics. */
  lap?: (stage: FeedStage) => void;
}

/**
 * What the worker does for agents after a message is stored: offer the
 * conversation to an agent, draft suggestions, publish live events, and arm
 * the slow-reply alert and the unanswered close. Safe to run twice for one message (a job retry).
 */
export class WorkspaceFeed {
  constructor(
    private readonly deps: {
      conversations: ConversationStore;
      routing: Routing;
      agents: Pick<AgentRegistry, 'agentsOfShop'>;
      assignment: Pick<Assignment, 'ownerOf'>;
      events: AgentEvents;
      suggestionIndex: SuggestionIndex;
      assistant: Assistant;
      /** Arms the slow-reply alert of one wait, due at `dueAt` (ms); arming twice is a no-op. */
      armAlert: (
        shopId: string,
        buyerId: string,
        waitingSince: number,
        dueAt: number,
      ) => Promise<void>;
      scheduleIdleClose: (shopId: string, buyerId: string, answeredAt: number) => Promise<void>;
      /** Arms the close of an unanswered wait, due at `dueAt` (ms); arming twice is a no-op. */
      armUnansweredClose: (
        shopId: string,
        buyerId: string,
        waitingSince: number,
        dueAt: number,
        opened?: boolean,
      ) => Promise<void>;
      /** How long a buyer nobody answers stays open after their last message (ms). */
      unansweredCloseAfterMs: number;
      clock: Clock;
      logger: Logger;
    },
  ) {}

  /**
   * `stale`: the message arrived long after it was sent (a replay, a late
   * delivery): it is shown to anyone who opens the conversation but never
   * makes a live waiting buyer, so it is not offered, drafted or alerted.
   * `at`: the message's effective sent time; `state`, when the caller already
   * holds the conversation's state after this message (the store returns it),
   * saves reading it again.
   *
   * Cost per message matters here (it runs for every buyer message): the
   * state, the owner, the shop's agents and the history are read together,
   * the suggestions are stored and published together, and the slow-reply
   * alert is armed once per wait (by the message that began it), not per message.
   */
  async afterBuyerMessage(
    shop: Shop,
    event: MessageEvent,
    context: BuyerMessageContext = { stale: false, at: Date.parse(event.sentAt) },
  ): Promise<void> {
    const { conversations, events, agents, assignment } = this.deps;
    const { stale } = context;
    const lap = context.lap ?? (() => {});
    // The conversation's key: the buyer for a direct chat, the thread for a group or topic.
    const buyerId = conversationKey(event.buyer.id, event.thread);
    const id = conversationId(shop.id, buyerId);
    const [state, owner, shopAgents, history] = await Promise.all([
      context.state ?? conversations.state(shop.id, buyerId),
      stale ? null : assignment.ownerOf(id),
      agents.agentsOfShop(shop.id),
      stale ? [] : conversations.history(shop.id, buyerId, ASSIST_HISTORY),
    ]);

    // The draft needs only the history: it starts now, so the assistant (its thread, or the model)
    // works while the offer's round trips run instead of after them. Its failure is handled
    // where it is awaited (`suggest`); the no-op catch only keeps it from counting as unhandled
    // should the offer throw first.
    const draft = stale ? undefined : this.draft(shop, history);
    draft?.catch(() => {});
    if (!stale) await this.deps.routing.offer(shop.id, id, { agents: shopAgents, owner });

    // Not awaited before the draft: on the batched connection (`batchWrites`) the event leaves with
    // the turn's write (while an LLM answers, or with the suggestion's writes) and is awaited below.
    const messagePublished = events.publish(
      shop.id,
      'message',
      {
        conversationId: id,
        buyerId,
        buyerName: state.buyerName ?? null,
        waitingSince: state.waitingSince ?? null,
        ...(stale ? { stale: true } : {}),
        message: {
          id: event.messageId,
          from: 'buyer',
          text: event.text,
          at: Date.parse(event.sentAt),
          ...mediaOf(event),
          // In a group or topic, who of its members wrote.
          ...(buyerId !== event.buyer.id ? { author: event.buyer } : {}),
        },
      },
      shopAgents,
    );
    if (stale) {
      await messagePublished;
      lap('assign');
      return;
    }
    lap('assign');

    // Only the message that began the wait arms its timers: one each per wait (due-timers.ts).
    const beganWait = state.waitingSince !== undefined && state.waitingSince === context.at;
    await Promise.all([
      messagePublished,
      // Stored and published after the message's event was issued: agents see it in that order.
      this.suggest(shop, buyerId, event.messageId, draft!, shopAgents, lap),
      beganWait ? this.armWaitTimers(shop, buyerId, state.waitingSince!) : undefined,
    ]);
  }

  /** The slow-reply alert and the unanswered close of one wait. */
  private async armWaitTimers(shop: Shop, buyerId: string, waitingSince: number): Promise<void> {
    await this.deps.armAlert(
      shop.id,
      buyerId,
      waitingSince,
      waitingSince + shop.settings.slowReplySeconds * 1000,
    );
    // Armed once per wait; a buyer who keeps writing pushes it back when it fires.
    await this.deps.armUnansweredClose(
      shop.id,
      buyerId,
      waitingSince,
      waitingSince + this.deps.unansweredCloseAfterMs,
    );
  }

  /** A buyer asked for service without writing: offer the conversation so someone answers in the window. */
  async afterOpen(shop: Shop, event: OpenEvent): Promise<void> {
    const key = conversationKey(event.buyer.id, event.thread);
    const id = conversationId(shop.id, key);
    await this.deps.routing.offer(shop.id, id);
    await this.deps.events.publish(shop.id, 'conversation', {
      conversationId: id,
      change: 'opened',
      label: event.label,
      at: Date.parse(event.sentAt),
    });
    // Nobody answering a request for service closes it like an unanswered message.
    const { openedAt, waitingSince } = await this.deps.conversations.state(shop.id, key);
    if (openedAt !== undefined && waitingSince === undefined)
      await this.deps.armUnansweredClose(
        shop.id,
        key,
        openedAt,
        openedAt + this.deps.unansweredCloseAfterMs,
        true,
      );
  }

  async afterAgentMessage(shop: Shop, event: MessageEvent): Promise<void> {
    const key = conversationKey(event.buyer.id, event.thread);
    const id = conversationId(shop.id, key);
    await this.deps.events.publish(shop.id, 'message', {
      conversationId: id,
      buyerId: key,
      message: {
        id: event.messageId,
        from: 'agent',
        text: event.text,
        at: Date.parse(event.sentAt),
        agentName: event.agentName ?? null,
        ...mediaOf(event),
      },
    });
    await this.deps.events.publish(shop.id, 'conversation', {
      conversationId: id,
      change: 'answered',
      via: 'platform',
    });
    await this.deps.scheduleIdleClose(shop.id, key, Date.parse(event.sentAt));
  }

  /** Drafts suggestions from the recent conversation. */
  private draft(shop: Shop, history: StoredMessage[]): Promise<AssistResult> {
    return this.deps.assistant.suggest({
      // Who wrote what, in order: no engine reads a message's time, and writing twenty of
      // them as ISO strings for every suggestion cost about 15 µs of the worker's main thread.
      history: history.map((m) => ({ from: m.from, text: m.text })),
      catalog: shop.catalog,
      settings: {
        busyNudge: shop.settings.busyNudge,
        locale: shopDefaultLocale(shop.settings.locale, shop.timezone),
        linkDomains: shop.settings.linkDomains,
      },
    });
  }

  /** Stores and publishes a draft's suggestions; never fails the job. */
  private async suggest(
    shop: Shop,
    buyerId: string,
    forMessageId: string,
    draft: Promise<AssistResult>,
    shopAgents: string[],
    lap: (stage: FeedStage) => void,
  ): Promise<void> {
    try {
      const result = await draft;
      lap('assist');
      const stored = { forMessageId, at: this.deps.clock.now(), ...result };
      const id = conversationId(shop.id, buyerId);
      // Issued together (one write on the batched connection), stores first.
      await Promise.all([
        this.deps.conversations.saveSuggestions(shop.id, buyerId, stored),
        this.deps.suggestionIndex.remember(shop.id, id, result.suggestions),
        this.deps.events.publish(
          shop.id,
          'suggestion',
          { conversationId: id, ...stored },
          shopAgents,
        ),
      ]);
      lap('publish');
    } catch (error) {
      // The agent can still answer by hand; the message itself is stored and counted.
      this.deps.logger.error(
        { err: (error as Error).message, shopId: shop.id },
        'suggestions failed',
      );
    }
  }
}

/** Typed media, when the platform adapter delivers it, passes through unchanged. */
function mediaOf(event: MessageEvent): { media?: unknown } {
  const media = (event as MessageEvent & { media?: unknown }).media;
  return media === undefined ? {} : { media };
}
