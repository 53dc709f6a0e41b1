import type { Job } from 'bullmq';
import type { AgentEvents } from '../agents/agent-events';

import { type ConversationStore, conversationId } from '../conversations/conversation-store';
import type { Clock } from '../shared/clock';
import type { ShopRegistry } from '../shops/shop-registry';
import type { AlertJob } from './queues';

/** Fires when a wait passes the shop's threshold, unless an agent answered first. */
export function createAlertProcessor(deps: {
  conversations: ConversationStore;
  events: AgentEvents;
  shops: ShopRegistry;
  clock: Clock;
}) {
  return async function processAlert(job: Job<AlertJob>): Promise<{ alerted: boolean }> {
    const { shopId, buyerId, waitingSince } = job.data;
    const shop = await deps.shops.get(shopId);
    if (!shop) return { alerted: false };
    const state = await deps.conversations.state(shopId, buyerId);
    if (state.waitingSince !== waitingSince) return { alerted: false };
    await deps.events.publish(shopId, 'alert', {
      conversationId: conversationId(shopId, buyerId),
      buyerId,
      waitingSeconds: Math.round((deps.clock.now() - waitingSince) / 1000),
      thresholdSeconds: shop.settings.slowReplySeconds,
    });
    return { alerted: true };
  };
}
