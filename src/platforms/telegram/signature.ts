import { AppError } from '../../shared/errors';
import { safeEqual } from '../../shared/tokens';
import type { InboundRequest } from '../contract';

/**
 * Telegram does not sign the body: it repeats the setWebhook `secret_token`
 * in a header. Knowing that secret is the whole proof, so it is compared in
 * constant time; a body altered in transit cannot be detected (TLS covers it).
 */
export function verifyTelegramSecret(request: InboundRequest, secretToken: string): void {
  const received = request.headers['x-telegram-bot-api-secret-token'];
  if (!received)
    throw new AppError(
      401,
      'invalid_signature',
      'X-Telegram-Bot-Api-Secret-Token header is missing.',
    );
  if (!safeEqual(received, secretToken)) {
    throw new AppError(401, 'invalid_signature', 'X-Telegram-Bot-Api-Secret-Token does not match.');
  }
}
