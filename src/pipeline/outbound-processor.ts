import { DelayedError, type Job, type Queue } from 'bullmq';
import type { AgentEvents } from '../agents/agent-events';
import { type Reply, ReplyStore } from '../agents/reply-store';
import type { ResponseClock } from '../agents/response-clock';
import type { InvoiceBook } from '../billing/invoice-book';
import type { ConversationStore } from '../conversations/conversation-store';
import type { ConsultationMeter } from '../metering/consultation-meter';
import type { PlatformHttp } from '../platforms/contract';
import type { PlatformRegistry } from '../platforms/registry';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import { dayOf } from '../shared/shop-calendar';
import type { ShopRegistry } from '../shops/shop-registry';
import { jobIds, type OutboundJob } from './queues';
import type { SendSlots } from './send-slots';

export interface OutboundDeps {
  shops: ShopRegistry;
  platforms: PlatformRegistry;
  replies: ReplyStore;
  conversations: ConversationStore;
  meter: ConsultationMeter;
  responseClock: ResponseClock;
  events: AgentEvents;
  http: PlatformHttp;
  clock: Clock;
  agentName: (agentId: string) => Promise<string>;
  logger: Logger;
  /** Records a reply that changed a month already closed, for the next invoice's adjustment. */
  invoices?: Pick<InvoiceBook, 'noteLateEvent'>;
  /** Arms the idle close of the conversation this reply answered. */
  scheduleIdleClose: (shopId: string, buyerId: string, answeredAt: number) => Promise<void>;
  /** Caps one shop's concurrent sends; without it (unit tests) sends are not capped. */
  sendSlots?: SendSlots;
  /**
   * Whether a reply's send job is still alive (waiting, active, delayed between tries); a
   * later reply of its conversation waits only behind one that is. Without it, behind any
   * reply still queued.
   */
  sendPending?: (replyId: string) => Promise<boolean>;
}

/**
 * The longest a reply waits behind an earlier one of its conversation, from when it was
 * written. The earlier reply holds it only while its own send is still alive (waiting, being
 * tried, or backing off between tries), which the default retry schedule ends within about two
 * minutes (6 attempts from 2 s, each up to the platform timeout); this only bounds what a
 * longer schedule could hold back.
 */
export const REPLY_ORDER_MAX_HOLD_MS = 300_000;

/** An earlier reply of the same conversation whose send is still under way, so it goes first. */
async function earlierReplyInFlight(
  deps: OutboundDeps,
  reply: Reply,
  now: number,
): Promise<Reply | undefined> {
  if (now - reply.createdAt >= REPLY_ORDER_MAX_HOLD_MS) return undefined;
  const recent = await deps.replies.recent(reply.shopId, reply.conversationId);
  for (const other of recent) {
    if (other.replyId === reply.replyId || !ReplyStore.before(other, reply)) continue;
    if (other.status !== 'queued') continue;
    // A reply whose job is gone or has failed for good is not coming: it holds nothing.
    if (!deps.sendPending || (await deps.sendPending(other.replyId))) return other;
  }
  return undefined;
}

/**
 * Waits without holding a worker or using an attempt: the job runs again after `delayMs`
 * (real time, as BullMQ's delays are; the injected clock is the business's), give or take a
 * quarter so waiting jobs do not wake together.
 */
async function waitFor(
  job: Job<OutboundJob>,
  token: string | undefined,
  delayMs: number,
  why: string,
): Promise<never> {
  if (!token) throw new RetryableSendError(why);
  await job.moveToDelayed(Date.now() + Math.round(delayMs * (0.75 + Math.random() / 2)), token);
  throw new DelayedError();
}

/** Thrown for a failure worth retrying; BullMQ backs off and tries again. */
class RetryableSendError extends Error {
  override name = 'RetryableSendError';
}

/**
 * Delivers one agent reply through the shop's platform. A refusal the platform
 * will repeat (window closed, bad token, 4xx) ends the reply as failed with
 * the platform's words; anything transient is retried with backoff. The reply
 * is marked sent the moment the platform accepts it, so a retry after a crash
 * in the bookkeeping that follows never sends it twice; the bookkeeping is
 * idempotent and simply runs again.
 */
export function createOutboundProcessor(deps: OutboundDeps) {
  return async function processOutbound(
    job: Job<OutboundJob>,
    token?: string,
  ): Promise<{ status: string }> {
    let reply = await deps.replies.get(job.data.shopId, job.data.replyId);
    if (!reply || reply.status === 'failed' || reply.recorded)
      return { status: reply?.status ?? 'missing' };
    const loaded = await deps.shops.getWithCredentials(reply.shopId);
    if (!loaded) {
      await markFailed(deps, reply, 'The shop no longer exists.');
      return { status: 'failed' };
    }

    const state = await deps.conversations.state(reply.shopId, reply.buyerId);
    // reply.buyerId is the conversation's key; in a group or topic the reply answers its latest writer.
    const person = state.lastBuyerId ?? reply.buyerId;
    if (reply.status === 'queued') {
      const now = deps.clock.now();
      // Replies reach the buyer in the order the agents wrote them: one whose platform refused
      // for a moment (and is being retried) goes before the words written after it.
      const earlier = await earlierReplyInFlight(deps, reply, now);
      // Looked at again soon while the hold is young, then less often (a platform down for
      // minutes must not turn every held reply into a poll four times a second).
      if (earlier)
        await waitFor(
          job,
          token,
          Math.min(5000, Math.max(250, (now - reply.createdAt) / 4)),
          `reply ${earlier.replyId} goes first`,
        );
      // Read before sending: nothing but the "sent" mark may stand between the platform's yes and the record of it.
      const consultationStart = await firstBuyerMessageOfWait(
        deps,
        loaded.shop.timezone,
        reply,
        person,
        state.waitingSince,
        now,
      );
      const adapter = deps.platforms.get(loaded.shop.platform);
      if (!adapter.send) {
        await markFailed(deps, reply, `The ${loaded.shop.platform} platform cannot send replies.`);
        return { status: 'failed' };
      }
      // A shop with all its send slots busy (its platform or reply URL is slow) waits
      // without holding a worker: the job is delayed briefly, with no attempt used up.
      const release = deps.sendSlots ? await deps.sendSlots.acquire(reply.shopId, now) : null;
      if (deps.sendSlots && !release)
        await waitFor(job, token, 500, 'all send slots of this shop are busy');
      const result = await adapter
        .send(
          {
            replyId: reply.replyId,
            conversationId: reply.conversationId,
            shopId: reply.shopId,
            buyerId: reply.buyerId,
            text: reply.text,
            replyContext: state.replyContext,
            lastBuyerMessageAt: state.lastBuyerAt,
            repliesSinceLastBuyerMessage: state.repliesSinceBuyer,
            openedAt: state.openedAt,
            repliesSinceOpen: state.repliesSinceOpen,
            now,
          },
          loaded.credentials,
          deps.http,
        )
        .finally(() => release?.());
      if (!result.ok) {
        await deps.replies.update(reply.shopId, reply.replyId, {
          attempts: job.attemptsMade + 1,
          error: result.error,
        });
        if (result.retryable) throw new RetryableSendError(result.error);
        await markFailed(deps, reply, result.error);
        return { status: 'failed' };
      }
      reply =
        (await deps.replies.update(reply.shopId, reply.replyId, {
          status: 'sent',
          sentAt: now,
          attempts: job.attemptsMade + 1,
          error: undefined,
          platformMessageId: result.platformMessageId,
          consultationStart,
        })) ?? reply;
    }

    const sentAt = reply.sentAt ?? deps.clock.now();
    await deps.conversations.append(reply.shopId, reply.buyerId, {
      id: reply.replyId,
      from: 'agent',
      text: reply.text,
      at: sentAt,
      agentName: await deps.agentName(reply.agentId),
    });
    const metered = await deps.meter.recordAgentReply(
      reply.shopId,
      loaded.shop.timezone,
      person,
      reply.agentId,
      sentAt,
    );
    await deps.invoices?.noteLateEvent(reply.shopId, `reply:${reply.replyId}`, metered.months);
    await deps.responseClock.recordReply({
      replyId: reply.replyId,
      shopId: reply.shopId,
      timezone: loaded.shop.timezone,
      buyerId: person,
      agentId: reply.agentId,
      text: reply.text,
      origin: reply.origin,
      sentAt,
      consultationStart: reply.consultationStart,
    });
    await deps.scheduleIdleClose(reply.shopId, reply.buyerId, sentAt);
    await deps.replies.update(reply.shopId, reply.replyId, { recorded: true });
    await deps.events.publish(reply.shopId, 'reply', {
      conversationId: reply.conversationId,
      replyId: reply.replyId,
      status: 'sent',
    });
    await deps.events.publish(reply.shopId, 'conversation', {
      conversationId: reply.conversationId,
      change: 'answered',
      agentId: reply.agentId,
    });
    return { status: 'sent' };
  };
}

/**
 * When a reply's job failed for good: a reply still queued ends as failed with
 * the platform's last words; one already delivered but not yet recorded gets
 * its bookkeeping queued again (never a resend).
 */
export function outboundFinalFailure(
  deps: Pick<OutboundDeps, 'replies' | 'events' | 'clock' | 'logger'>,
  outbound: Queue<OutboundJob>,
) {
  return async (job: Job<OutboundJob>, error: Error): Promise<void> => {
    const reply = await deps.replies.get(job.data.shopId, job.data.replyId);
    if (reply?.status === 'queued') await markFailed(deps, reply, error.message);
    if (reply?.status === 'sent' && !reply.recorded) {
      deps.logger.error(
        { replyId: reply.replyId, shopId: reply.shopId },
        'reply sent but not yet recorded; retrying the bookkeeping',
      );
      await outbound.add('reply', job.data, {
        jobId: jobIds.replyRecord(reply.replyId, deps.clock.now()),
        delay: 60_000,
      });
    }
  };
}

/** The consultation this reply answers began with the buyer's first message that day. */
async function firstBuyerMessageOfWait(
  deps: OutboundDeps,
  timezone: string,
  reply: Reply,
  person: string,
  waitingSince: number | undefined,
  now: number,
): Promise<number | undefined> {
  const since = waitingSince ?? now;
  const day = dayOf(since, timezone);
  const first = await deps.meter.firstMessageAt(reply.shopId, day, person);
  return first ?? waitingSince;
}

export async function markFailed(
  deps: Pick<OutboundDeps, 'replies' | 'events' | 'clock' | 'logger'>,
  reply: Reply,
  error: string,
): Promise<void> {
  // Ids only: the reply text and the buyer's words stay out of the log.
  deps.logger.warn(
    { shopId: reply.shopId, replyId: reply.replyId, conversationId: reply.conversationId, error },
    'reply failed for good',
  );
  await deps.replies.update(reply.shopId, reply.replyId, {
    status: 'failed',
    error,
    failedAt: deps.clock.now(),
  });
  await deps.events.publish(reply.shopId, 'reply', {
    conversationId: reply.conversationId,
    replyId: reply.replyId,
    status: 'failed',
    error,
  });
}

/**
 * An operator retries a reply whose job failed for good (GET /v1/ops/failed-jobs):
 * without this the retried job would find the reply failed and stop at once,
 * sending nothing while the operator was told it was retrying. The reply is
 * queued again (the agents' consoles show it sending) and the retried job
 * sends it like a new one, the platform's window and refusals checked again.
 * Only a failed reply is reopened: one sent meanwhile stays sent.
 */
export async function reopenFailedReply(
  deps: Pick<OutboundDeps, 'replies' | 'events'>,
  shopId: string,
  replyId: string,
): Promise<boolean> {
  const reply = await deps.replies.get(shopId, replyId);
  if (reply?.status !== 'failed') return false;
  await deps.replies.update(shopId, replyId, {
    status: 'queued',
    error: undefined,
    failedAt: undefined,
  });
  await deps.events.publish(shopId, 'reply', {
    conversationId: reply.conversationId,
    replyId,
    status: 'queued',
  });
  return true;
}
