import type { OutboundReply, SendResult } from './contract';

/**
 * Checks a platform's customer-service window before any request is made, so
 * a reply that the platform would refuse fails at once and is never retried.
 */
export function closedWindow(
  reply: OutboundReply,
  rule: { platform: string; hours: number; maxReplies?: number },
): SendResult | null {
  if (reply.lastBuyerMessageAt === undefined) {
    return {
      ok: false,
      retryable: false,
      error: `${rule.platform}: the buyer has not written yet, so no reply window is open`,
    };
  }
  if (reply.now - reply.lastBuyerMessageAt > rule.hours * 3_600_000) {
    return {
      ok: false,
      retryable: false,
      error: `${rule.platform}: the ${rule.hours}-hour reply window since the buyer's last message has closed`,
    };
  }
  if (rule.maxReplies !== undefined && reply.repliesSinceLastBuyerMessage >= rule.maxReplies) {
    return {
      ok: false,
      retryable: false,
      error: `${rule.platform}: at most ${rule.maxReplies} replies are allowed until the buyer writes again`,
    };
  }
  return null;
}

/**
 * Whether a request for service without a message (a menu click) still
 * allows this reply: within `seconds` of it and under `maxReplies` since.
 */
export function openWindowAllows(
  reply: OutboundReply,
  rule: { seconds: number; maxReplies: number },
): boolean {
  return (
    reply.openedAt !== undefined &&
    reply.now - reply.openedAt <= rule.seconds * 1000 &&
    (reply.repliesSinceOpen ?? 0) < rule.maxReplies
  );
}
