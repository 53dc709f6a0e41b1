import { type Job, UnrecoverableError } from 'bullmq';
import type { BuyerMessageContext } from '../agents/workspace-feed';
import { attributionDaysOf } from '../billing/attribution';
import type { InvoiceBook } from '../billing/invoice-book';
import { conversationKey } from '../conversations/conversation-key';
import type { ConversationStore } from '../conversations/conversation-store';
import type { CommerceEvents } from '../metering/commerce-events';
import type { ConsultationMeter } from '../metering/consultation-meter';
import type { MessageEvent, OpenEvent } from '../platforms/contract';
import { monthOf } from '../shared/shop-calendar';
import type { Shop, ShopRegistry } from '../shops/shop-registry';
import type { DeliveryClaim } from './delivery-dedupe';
import type { InboundJob } from './queues';
import { effectiveSentAt } from './sent-at';

export type PipelineStage = 'queue_wait' | 'store' | 'meter' | 'assign' | 'assist' | 'publish';

export interface InboundProcessorDeps {
  /**
   * Marks the event delivered in the job's name (for 72 h of redelivery dedupe), unless
   * ingest did and this is the job's first attempt (`InboundJob.marked`); a `duplicate` job
   * is dropped unprocessed.
   */
  claimDelivery: (
    shopId: string,
    platform: string,
    eventId: string,
    token: string,
  ) => Promise<DeliveryClaim>;
  /** Called for a job dropped as a second copy of an event already taken by another job. */
  onDuplicate?: () => void;
  shops: ShopRegistry;
  conversations: ConversationStore;
  meter: ConsultationMeter;
  commerce: CommerceEvents;
  /** Notes events that land in a month already closing or closed (late events, adjusted on the next invoice). */
  invoices?: Pick<InvoiceBook, 'noteLateEvent'>;
  /** After a buyer message is stored and metered (assist + publish); runs again on a retry, so it must be idempotent. */
  afterBuyerMessage?: (
    shop: Shop,
    event: MessageEvent,
    context: BuyerMessageContext,
  ) => Promise<void>;
  /** A buyer message received more than this long after it was sent never becomes a live wait. */
  staleAfterMs?: number;
  /** Records how long a stage of a buyer message took (ms), for the pipeline metrics. */
  observeStage?: (stage: PipelineStage, ms: number) => void;
  /** After a buyer asked for service without writing: offer the conversation and tell the console. */
  afterOpen?: (shop: Shop, event: OpenEvent) => Promise<void>;
  /** Called after a new agent reply reported by the platform is stored. */
  afterAgentMessage?: (shop: Shop, event: MessageEvent) => Promise<void>;
}

/**
 * Processes one inbound event. Every step is idempotent (sets, id-keyed
 * hashes, dedupe by message id), so a retry after a crash halfway is safe.
 */
export function createInboundProcessor(deps: InboundProcessorDeps) {
  const observe = deps.observeStage ?? (() => {});
  return async function processInbound(job: Job<InboundJob>): Promise<{ stored: boolean }> {
    const { shopId, event, platform } = job.data;
    let mark = Date.now();
    const lap = (stage: PipelineStage) => {
      const now = Date.now();
      observe(stage, now - mark);
      mark = now;
    };
    observe('queue_wait', (job.processedOn ?? mark) - job.data.receivedAt);
    // The job's creator names the mark; jobs made before ingest ids existed use their creation time.
    const token = job.data.ingestId ?? `t${job.timestamp}`;
    const [claim, shop] = await Promise.all([
      // A job queued with its mark is the event's only job: no round trip to claim it on its
      // first attempt. A retry claims (its own mark: `retry`), which marks the event again if
      // the mark ran out meanwhile (a failed job retried by an operator days later).
      job.data.marked && job.attemptsMade === 0
        ? 'first'
        : deps.claimDelivery(shopId, platform, event.eventId, token),
      deps.shops.getCached(shopId),
    ]);
    if (claim === 'duplicate') {
      deps.onDuplicate?.();
      return { stored: false };
    }
    if (!shop) throw new UnrecoverableError(`shop ${shopId} no longer exists`);

    switch (event.kind) {
      case 'message': {
        const claimed = Date.parse(event.sentAt);
        if (!Number.isFinite(claimed))
          throw new UnrecoverableError(`message ${event.messageId} has no valid sentAt`);
        const { at, implausible } = effectiveSentAt(claimed, job.data.receivedAt);
        // Replays and late deliveries are history: metered on their own day, never a waiting buyer.
        const stale =
          event.from === 'buyer' &&
          deps.staleAfterMs !== undefined &&
          job.data.receivedAt - at > deps.staleAfterMs;
        // The conversation is the thread; metering counts the person who wrote.
        const key = conversationKey(event.buyer.id, event.thread);
        const shared = event.thread !== undefined && key !== event.buyer.id;
        const message = {
          id: event.messageId,
          from: event.from,
          text: event.text,
          at,
          agentName: event.agentName,
          ...(shared && event.from === 'buyer' ? { author: { ...event.buyer } } : {}),
          ...(implausible ? { claimedSentAt: event.sentAt } : {}),
          ...(stale ? { stale: true } : {}),
          ...(event.media ? { media: event.media } : {}),
        };
        if (event.from === 'buyer') {
          const meta: Record<string, string> = { lastBuyerId: event.buyer.id };
          if (event.buyer.name && !shared) meta.buyerName = event.buyer.name;
          if (shared && event.thread) {
            meta.threadKind = event.thread.kind;
            if (event.thread.title) meta.buyerName = event.thread.title;
          }
          if (event.replyContext) meta.replyContext = JSON.stringify(event.replyContext);
          // Store (with meta and the state the feed needs) and meter are independent and
          // idempotent: issued together, they share one round trip on the auto-pipelined connection.
          const month = monthOf(at, shop.timezone);
          const recorded = deps.conversations.record(shopId, key, message, meta);
          const metering = deps.meter.recordBuyerMessage(
            shopId,
            shop.timezone,
            event.buyer.id,
            at,
            {
              attributionDays: attributionDaysOf(deps.shops.planFor(shop, month)),
            },
          );
          // Neither rejection may go unhandled while the other is awaited.
          const [{ stored, state }, metered] = await Promise.all([
            recorded.finally(() => lap('store')),
            metering,
          ]);
          lap('meter');
          // The late-event check travels with the feed's first reads; both finish before the job does.
          await Promise.all([
            deps.invoices?.noteLateEvent(shopId, event.eventId, metered.months, shop.timezone),
            deps.afterBuyerMessage?.(shop, event, { stale, at, state, lap }),
          ]);
          return { stored };
        }
        const stored = await deps.conversations.append(shopId, key, message);
        const metered = await deps.meter.recordAgentReply(
          shopId,
          shop.timezone,
          event.buyer.id,
          `platform:${event.agentName ?? 'agent'}`,
          at,
        );
        await deps.invoices?.noteLateEvent(shopId, event.eventId, metered.months, shop.timezone);
        if (deps.afterAgentMessage) await deps.afterAgentMessage(shop, event);
        return { stored };
      }
      case 'open': {
        // Visible to agents at once; metered only when the buyer writes.
        const claimed = Date.parse(event.sentAt);
        if (!Number.isFinite(claimed))
          throw new UnrecoverableError(`open event ${event.eventId} has no valid sentAt`);
        const { at } = effectiveSentAt(claimed, job.data.receivedAt);
        const key = conversationKey(event.buyer.id, event.thread);
        const stored = await deps.conversations.append(shopId, key, {
          id: `open/${event.eventId}`,
          from: 'buyer',
          kind: 'open',
          text: event.label,
          at,
        });
        const meta: Record<string, string> = { lastBuyerId: event.buyer.id };
        if (event.buyer.name && key === event.buyer.id) meta.buyerName = event.buyer.name;
        if (event.replyContext) meta.replyContext = JSON.stringify(event.replyContext);
        await deps.conversations.setMeta(shopId, key, meta);
        if (stored && deps.afterOpen) await deps.afterOpen(shop, event);
        return { stored };
      }
      case 'order': {
        const metered = await deps.commerce.recordOrder(shopId, shop.timezone, event);
        await deps.invoices?.noteLateEvent(shopId, event.eventId, metered.months, shop.timezone);
        return { stored: true };
      }
      case 'rating': {
        const metered = await deps.commerce.recordRating(shopId, shop.timezone, event);
        await deps.invoices?.noteLateEvent(shopId, event.eventId, metered.months, shop.timezone);
        return { stored: true };
      }
    }
  };
}
