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
import {
  INBOUND_BATCH,
  type InboundBatchJob,
  type InboundJob,
  type InboundJobData,
  unfinishedEvents,
} from './queues';
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
  /**
   * Queues an event of a batch job again as a job of its own, at the batch's priority, after
   * it failed in the batch (`unrecoverable`: it will fail again, so at once; otherwise after
   * the first backoff step), or when the batch itself is taken again.
   */
  requeue: (event: InboundJob, unrecoverable: boolean, priority: number) => Promise<void>;
}

/** What a job's attempt says about itself, for each event it carries. */
interface Attempt {
  /** When the worker took the job (ms). */
  processedOn?: number;
  /** Attempts before this one. */
  attemptsMade: number;
  /** When the job was added (ms). */
  timestamp: number;
}

/**
 * Processes an inbound job: one event, or the events of an ingest call
 * (InboundBatchJob). Every step is idempotent (sets, id-keyed hashes, dedupe
 * by message id), so a retry after a crash halfway is safe.
 */
export function createInboundProcessor(deps: InboundProcessorDeps) {
  const processEvent = createEventProcessor(deps);
  return async function processInbound(
    job: Job<InboundJobData>,
  ): Promise<{ stored: boolean } | BatchOutcome> {
    if (job.name !== INBOUND_BATCH) return processEvent(job.data as InboundJob, job);
    const batch = job.data as InboundBatchJob;
    const left = unfinishedEvents(batch);
    // Queued again, an event keeps its batch's fair-share tier.
    const priority = job.opts.priority ?? 0;
    const requeue = (data: InboundJob, unrecoverable: boolean) =>
      deps.requeue(data, unrecoverable, priority);
    // A batch taken again (an attempt failed, or its worker died: stalled) runs no event
    // itself: each event it has not finished goes on as a job of its own, so one that keeps
    // failing, or kills its worker, does so alone, and none runs beside its own job.
    const outcome =
      job.attemptsMade > 0 || job.stalledCounter > 0
        ? await requeueAll(left, requeue)
        : await processBatch(left, job, processEvent, requeue);
    if (outcome.failure === undefined) return outcome;
    // What is done is remembered for the retry (best effort: Redis may be why a requeue failed).
    await job
      .updateData({ ...batch, done: [...(batch.done ?? []), ...outcome.done] })
      .catch(() => undefined);
    throw outcome.failure;
  };
}

/** What a batch job's attempt did with its events. */
export interface BatchOutcome {
  /** Events stored by this attempt (not redeliveries). */
  stored: number;
  /** Ids of the events queued again as jobs of their own. */
  requeued: string[];
  /** Ids of the events finished: processed, or queued again. A retry skips them. */
  done: string[];
  /** Why an event could not be queued again, when one could not: the batch then fails. */
  failure?: unknown;
}

/**
 * The events of a batch job, each as its own job would be processed: a
 * conversation's events one after another in the order the batch holds them,
 * the conversations side by side (as the worker's concurrency runs separate
 * jobs). An event that fails is queued again as a job of its own, so its
 * retries and its place in the failed set are its own and the other events
 * are done; the batch fails (and its retry queues the events not done, each
 * as its own job) only when such a requeue cannot be written.
 */
export async function processBatch(
  events: InboundJob[],
  attempt: Attempt,
  processEvent: (data: InboundJob, attempt: Attempt) => Promise<{ stored: boolean }>,
  requeue: (data: InboundJob, unrecoverable: boolean) => Promise<void>,
): Promise<BatchOutcome> {
  const lines = new Map<string, InboundJob[]>();
  for (const data of events) {
    const line = `${data.shopId}\n${conversationOf(data.event)}`;
    const queued = lines.get(line);
    if (queued) queued.push(data);
    else lines.set(line, [data]);
  }
  const outcome: BatchOutcome = { stored: 0, requeued: [], done: [] };
  // Every line finishes before the batch does, even when one could not requeue an event.
  const settled = await Promise.allSettled(
    [...lines.values()].map(async (line) => {
      for (const data of line) {
        const id = data.event.eventId;
        try {
          if ((await processEvent(data, attempt)).stored) outcome.stored++;
        } catch (error) {
          await requeue(data, error instanceof UnrecoverableError);
          outcome.requeued.push(id);
        }
        outcome.done.push(id);
      }
    }),
  );
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) outcome.failure = failed.reason;
  return outcome;
}

/** Queues each event again as a job of its own (a no-op for one whose job is still there). */
async function requeueAll(
  events: InboundJob[],
  requeue: (data: InboundJob, unrecoverable: boolean) => Promise<void>,
): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { stored: 0, requeued: [], done: [] };
  for (const data of events) {
    try {
      await requeue(data, false);
    } catch (error) {
      outcome.failure = error;
      break;
    }
    outcome.requeued.push(data.event.eventId);
    outcome.done.push(data.event.eventId);
  }
  return outcome;
}

/** The conversation an event belongs to ('' for a shop's events that have none). */
function conversationOf(event: InboundJob['event']): string {
  return 'buyer' in event ? conversationKey(event.buyer.id, event.thread) : '';
}

/** Processes one inbound event, as its own job or as one of a batch job's. */
function createEventProcessor(deps: Omit<InboundProcessorDeps, 'requeue'>) {
  const observe = deps.observeStage ?? (() => {});
  return async function processEvent(data: InboundJob, job: Attempt): Promise<{ stored: boolean }> {
    const { shopId, event, platform } = data;
    let mark = Date.now();
    const lap = (stage: PipelineStage) => {
      const now = Date.now();
      observe(stage, now - mark);
      mark = now;
    };
    observe('queue_wait', (job.processedOn ?? mark) - data.receivedAt);
    // The job's creator names the mark; jobs made before ingest ids existed use their creation time.
    const token = data.ingestId ?? `t${job.timestamp}`;
    const [claim, shop] = await Promise.all([
      // A job queued with its mark is the event's only job: no round trip to claim it on its
      // first attempt. A retry claims (its own mark: `retry`), which marks the event again if
      // the mark ran out meanwhile (a failed job retried by an operator days later).
      data.marked && job.attemptsMade === 0
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
        const { at, implausible } = effectiveSentAt(claimed, data.receivedAt);
        // Replays and late deliveries are history: metered on their own day, never a waiting buyer.
        const stale =
          event.from === 'buyer' &&
          deps.staleAfterMs !== undefined &&
          data.receivedAt - at > deps.staleAfterMs;
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
          // idempotent: issued together, they share one write on the batched connection.
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
        const { at } = effectiveSentAt(claimed, data.receivedAt);
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
