import { createHmac } from 'node:crypto';
import { AppError } from '../shared/errors';
import { safeEqual } from '../shared/tokens';
import type { InboundRequest } from './contract';

/**
 * WhatsApp Cloud API and Messenger share Meta's webhook scheme:
 * `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>` and a
 * GET `hub.challenge` handshake. Meta signs the bytes it sends (unicode
 * already escaped), so the raw body is hashed as received, never re-serialised.
 */
export function verifyHubSignature(request: InboundRequest, appSecret: string): void {
  const header = request.headers['x-hub-signature-256'];
  if (!header)
    throw new AppError(401, 'invalid_signature', 'X-Hub-Signature-256 header is missing.');
  if (!header.startsWith('sha256=')) {
    throw new AppError(401, 'invalid_signature', 'X-Hub-Signature-256 must start with "sha256=".');
  }
  const expected = createHmac('sha256', appSecret).update(request.rawBody).digest('hex');
  // Meta sends lowercase hex; lower-casing the received value tolerates a proxy that upper-cases it.
  if (!safeEqual(header.slice('sha256='.length).toLowerCase(), expected)) {
    throw new AppError(401, 'invalid_signature', 'X-Hub-Signature-256 does not match the body.');
  }
}

export function hubSignatureHeader(rawBody: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

/** Answers Meta's subscription check with the challenge, or refuses a wrong verify token with 403. */
export function answerHubChallenge(
  request: InboundRequest,
  verifyToken: string,
): { contentType: string; body: string } {
  const mode = request.query['hub.mode'];
  const token = request.query['hub.verify_token'];
  const challenge = request.query['hub.challenge'];
  if (mode !== 'subscribe') {
    throw new AppError(400, 'invalid_handshake', 'hub.mode must be "subscribe".', {
      details: { field: 'hub.mode' },
    });
  }
  if (challenge === undefined || challenge === '') {
    throw new AppError(400, 'invalid_handshake', 'hub.challenge is missing.', {
      details: { field: 'hub.challenge' },
    });
  }
  if (token === undefined || !safeEqual(token, verifyToken)) {
    throw new AppError(
      403,
      'invalid_verify_token',
      "hub.verify_token does not match the shop's verify token.",
    );
  }
  return { contentType: 'text/plain', body: challenge };
}
