import { createHmac } from 'node:crypto';
import { AppError } from '../../shared/errors';
import { safeEqual } from '../../shared/tokens';
import type { InboundRequest } from '../contract';

/** `x-line-signature` = base64(HMAC-SHA256(channel secret, raw body)); no prefix, no timestamp. */
export function lineSignature(rawBody: Buffer | string, channelSecret: string): string {
  return createHmac('sha256', channelSecret).update(rawBody).digest('base64');
}

export function verifyLineSignature(request: InboundRequest, channelSecret: string): void {
  const received = request.headers['x-line-signature'];
  if (!received)
    throw new AppError(401, 'invalid_signature', 'x-line-signature header is missing.');
  if (!safeEqual(received, lineSignature(request.rawBody, channelSecret))) {
    throw new AppError(401, 'invalid_signature', 'x-line-signature does not match the body.');
  }
}
