import type { Job } from 'bullmq';
import type { AgentEvents } from '../agents/agent-events';
import type { Assignment } from '../agents/assignment';
import type { Routing } from '../agents/routing';
import { type ConversationStore, conversationId } from '../conversations/conversation-store';
import type { Clock } from '../shared/clock';
import type { IdleCloseJob, UnansweredCloseJob } from './queues';

/**
 * Closes conversations on their own, so they stop counting toward an agent's
 * cap and leave the consoles: an answered one that stayed quiet, and one
 * nobody answered whose buyer has been silent for the unanswered close time.
 */
export function createIdleCloseProcessor(deps: {
  conversations: ConversationStore;
  assignment: Assignment;
  events: AgentEvents;
  routing: Routing;
  clock: Clock;
  /** How long a buyer nobody answered stays open after their last message (ms). */
  unansweredCloseAfterMs: number;
  /** Arms the unanswered close again for a buyer who wrote after it was armed. */
  armUnansweredClose: (
    shopId: string,
    buyerId: string,
    waitingSince: number,
    dueAt: number,
    opened?: boolean,
  ) => Promise<void>;
}) {
  async function closed(shopId: string, buyerId: string, reason: string): Promise<void> {
    const id = conversationId(shopId, buyerId);
    await deps.assignment.release(id);
    await deps.events.publish(shopId, 'conversation', {
      conversationId: id,
      change: 'closed',
      reason,
    });
    // The buyer may have written between the close and the release: offer it again.
    if ((await deps.conversations.state(shopId, buyerId)).waitingSince !== undefined)
      await deps.routing.offer(shopId, id);
  }

  async function closeIfUnanswered(data: UnansweredCloseJob): Promise<{ closed: boolean }> {
    const { shopId, buyerId, waitingSince, opened = false } = data;
    // Atomic: an answer, a manual close or a newer wait since keeps it open; metering is not touched.
    const outcome = await deps.conversations.closeIfUnanswered(
      shopId,
      buyerId,
      waitingSince,
      deps.unansweredCloseAfterMs,
      deps.clock.now(),
      opened,
    );
    if (!outcome.closed) {
      if (outcome.dueAt !== undefined)
        await deps.armUnansweredClose(shopId, buyerId, waitingSince, outcome.dueAt, opened);
      return { closed: false };
    }
    await closed(shopId, buyerId, 'unanswered_timeout');
    return { closed: true };
  }

  return async function closeIfIdle(
    job: Job<IdleCloseJob | UnansweredCloseJob>,
  ): Promise<{ closed: boolean }> {
    if ('waitingSince' in job.data) return closeIfUnanswered(job.data);
    const { shopId, buyerId, answeredAt } = job.data;
    // Atomic: a buyer message, a later reply or a manual close since answeredAt keeps it open.
    if (
      !(await deps.conversations.closeIfQuietSince(shopId, buyerId, answeredAt, deps.clock.now()))
    )
      return { closed: false };
    await closed(shopId, buyerId, 'idle');
    return { closed: true };
  };
}
