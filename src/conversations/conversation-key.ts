import type { Thread } from '../platforms/contract';

/**
 * The key a conversation is stored under within its shop. A direct chat is
 * keyed by the buyer's id, exactly as before threads existed, so every id
 * already stored keeps its meaning. A group or topic is keyed by its kind and
 * the platform's thread id, so it can never merge with a member's private
 * chat; no platform's user ids contain ':' (wa_id, BSUID, PSID, LINE U…,
 * openId, Telegram ids), so the two key spaces cannot meet. A direct chat
 * whose thread id differs from the buyer (a Telegram Business connection)
 * is a thread of its own for the same reason.
 */
export function conversationKey(buyerId: string, thread?: Thread): string {
  if (!thread || (thread.kind === 'direct' && thread.id === buyerId)) return buyerId;
  return `${thread.kind}:${thread.id}`;
}
