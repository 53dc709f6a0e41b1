import type { Job } from 'bullmq';
import type { AgentEvents } from '../agents/agent-events';
import type { Assignment } from '../agents/assignment';
import type { Routing } from '../agents/routing';
import { type ConversationStore, conversationId } from '../conversations/conversation-store';
import type { Clock } from '../shared/clock';
import type { IdleCloseJob } from './queues';

/**
 * Closes an answered conversation that stayed quiet, so it stops counting
 * toward its agent's cap without the agent having to close it by hand.
 */
export function createIdleCloseProcessor(deps: {
  conversations: ConversationStore;
  assignment: Assignment;
  events: AgentEvents;
  routing: Routing;
  clock: Clock;
}) {
  return async function closeIfIdle(job: Job<IdleCloseJob>): Promise<{ closed: boolean }> {
    const { shopId, buyerId, answeredAt } = job.data;
    // Atomic: a buyer message, a later reply or a manual close since answeredAt keeps it open.
    if (
      !(await deps.conversations.closeIfQuietSince(shopId, buyerId, answeredAt, deps.clock.now()))
    )
      return { closed: false };
    const id = conversationId(shopId, buyerId);
    await deps.assignment.release(id);
    await deps.events.publish(shopId, 'conversation', {
      conversationId: id,
      change: 'closed',
      reason: 'idle',
    });
    // The buyer may have written between the close and the release: offer it again.
    if ((await deps.conversations.state(shopId, buyerId)).waitingSince !== undefined)
      await deps.routing.offer(shopId, id);
    return { closed: true };
  };
}
