/**
 * How far a platform's `sentAt` may stray from when the webhook arrived and
 * still be believed. Platforms redeliver for up to about a week (WhatsApp 7
 * days), so anything within 35 days before arrival is a late event (and
 * adjusts a closed month); an hour ahead allows for clock skew. Outside that
 * (year 0000, year 9999) the time is absurd: the message is kept with the
 * time it claimed, flagged, and ordered and metered at its arrival.
 */
export const SENT_AT_PAST_WINDOW_MS = 35 * 86_400_000;
export const SENT_AT_FUTURE_WINDOW_MS = 3_600_000;

export function effectiveSentAt(
  claimed: number,
  receivedAt: number,
): { at: number; implausible: boolean } {
  const implausible =
    claimed < receivedAt - SENT_AT_PAST_WINDOW_MS ||
    claimed > receivedAt + SENT_AT_FUTURE_WINDOW_MS;
  return implausible ? { at: receivedAt, implausible } : { at: claimed, implausible };
}
