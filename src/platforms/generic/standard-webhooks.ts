import { createHmac } from 'node:crypto';
import { AppError } from '../../shared/errors';
import { safeEqual } from '../../shared/tokens';

/** Standard Webhooks tolerance, both ways: a replay older or a clock further ahead is refused. */
export const TIMESTAMP_TOLERANCE_SECONDS = 300;

function secretBytes(secret: string): Buffer {
  return Buffer.from(
    secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret,
    'base64',
  );
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, the scheme senders and we both use. */
export function signStandardWebhook(
  secret: string,
  id: string,
  timestamp: number | string,
  body: Buffer | string,
): string {
  const mac = createHmac('sha256', secretBytes(secret));
  mac.update(`${id}.${timestamp}.`);
  mac.update(body);
  return `v1,${mac.digest('base64')}`;
}

/**
 * One of the three headers. Svix, the scheme's origin, still sends them as
 * `svix-id`, `svix-timestamp` and `svix-signature`, which the reference
 * verifier accepts as aliases; the `webhook-` name wins when both are present.
 */
export function standardWebhookHeader(
  headers: Record<string, string | undefined>,
  name: 'id' | 'timestamp' | 'signature',
): string | undefined {
  return headers[`webhook-${name}`] ?? headers[`svix-${name}`];
}

/**
 * Verifies over the raw body bytes. Any one of the space-separated signatures
 * may match, so a sender can sign with an old and a new secret while rotating.
 */
export function verifyStandardWebhook(
  secret: string | readonly string[],
  headers: Record<string, string | undefined>,
  rawBody: Buffer,
  nowMs: number,
): { id: string; timestamp: number } {
  const id = standardWebhookHeader(headers, 'id');
  const timestampText = standardWebhookHeader(headers, 'timestamp');
  const signatures = standardWebhookHeader(headers, 'signature');
  if (!id || !timestampText || !signatures) {
    throw new AppError(
      401,
      'missing_signature',
      'webhook-id, webhook-timestamp and webhook-signature headers (or their svix- aliases) are required.',
    );
  }
  if (!/^\d{1,12}$/.test(timestampText)) {
    throw new AppError(401, 'invalid_timestamp', 'webhook-timestamp must be Unix seconds.');
  }
  const timestamp = Number(timestampText);
  // Whole seconds, as the reference verifier counts: a delivery 300 s old is on time all that second.
  if (Math.abs(Math.floor(nowMs / 1000) - timestamp) > TIMESTAMP_TOLERANCE_SECONDS) {
    throw new AppError(
      401,
      'stale_timestamp',
      `webhook-timestamp is more than ${TIMESTAMP_TOLERANCE_SECONDS} s from now; check the sender's clock.`,
    );
  }
  // Several secrets while a rotated one is in its grace period: any of them may have signed.
  const expected = (typeof secret === 'string' ? [secret] : secret).map((s) =>
    signStandardWebhook(s, id, timestampText, rawBody),
  );
  // Space-separated, as the spec writes them; a sender that repeats the header instead gets
  // them joined by Node as "v1,AAA, v1,BBB", so a comma ending a signature is dropped
  // (base64 has none).
  const versioned = signatures
    .split(/\s+/)
    .map((candidate) => candidate.replace(/,$/, ''))
    .filter((candidate) => candidate.startsWith('v1,'));
  // The two mistakes a bridge's developer makes first are named (the recipe is the public spec).
  if (versioned.length === 0)
    throw new AppError(
      401,
      'invalid_signature',
      'webhook-signature must be "v1," followed by the base64 signature (several separated by spaces).',
    );
  if (!versioned.some((candidate) => expected.some((e) => safeEqual(candidate, e))))
    throw new AppError(
      401,
      'invalid_signature',
      'No webhook-signature matches this body and the shop secret: sign "<webhook-id>.<webhook-timestamp>.<body>" (the exact bytes sent) with HMAC-SHA256, keyed with the base64-decoded part of the secret after whsec_ (docs/platforms.md).',
    );
  return { id, timestamp };
}
