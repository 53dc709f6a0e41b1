import type { Job, Queue } from 'bullmq';
import { type ConversationStore, conversationId } from '../conversations/conversation-store';
import type { Clock } from '../shared/clock';
import type { AgentEvents } from './agent-events';
import type { Assignment } from './assignment';
import type { Routing } from './routing';

export const IDLE_QUEUE = 'idle';

export interface IdleCloseJob {
  shopId: string;
  buyerId: string;
  /** When the reply that answered the buyer was sent (ms). */
  answeredAt: number;
}

/**
 * Arms the close of an answered conversation once it has been quiet for
 * `idleMs`, so it stops counting toward its agent's cap without the agent
 * having to close it by hand. One job per reply; only the latest can close.
 */
export function idleCloseScheduler(queue: Queue<IdleCloseJob>, idleMs: number) {
  return async (shopId: string, buyerId: string, answeredAt: number): Promise<void> => {
    const jobId = `ic_${Buffer.from(`${conversationId(shopId, buyerId)}\u0000${answeredAt}`).toString('base64url')}`;
    await queue.add('idle-close', { shopId, buyerId, answeredAt }, { jobId, delay: idleMs });
  };
}

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
