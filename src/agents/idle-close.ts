import type { Job, Queue } from 'bullmq';
import { type ConversationStore, conversationId } from '../conversations/conversation-store';
import type { Clock } from '../shared/clock';
import type { AgentEvents } from './agent-events';
import type { Assignment } from './assignment';

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

export function createIdleCloseProcessor(deps: { conversations: ConversationStore; assignment: Assignment; events: AgentEvents; clock: Clock }) {
  return async function closeIfIdle(job: Job<IdleCloseJob>): Promise<{ closed: boolean }> {
    const { shopId, buyerId, answeredAt } = job.data;
    const state = await deps.conversations.state(shopId, buyerId);
    // The buyer wrote again, a later reply armed its own close, or it is closed already.
    const active = state.waitingSince !== undefined || (state.lastBuyerAt ?? 0) > answeredAt || (state.lastAgentAt ?? 0) > answeredAt;
    if (active || state.closedAt !== undefined) return { closed: false };
    const id = conversationId(shopId, buyerId);
    await deps.conversations.close(shopId, buyerId, deps.clock.now());
    await deps.assignment.release(id);
    await deps.events.publish(shopId, 'conversation', { conversationId: id, change: 'closed', reason: 'idle' });
    return { closed: true };
  };
}
