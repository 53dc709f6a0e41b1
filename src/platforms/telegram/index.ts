import type { PlatformAdapter } from '../contract';
import { telegramCredentialsSchema, type TelegramCredentials } from './credentials';
import { parseTelegramUpdate } from './parse';
import { sendTelegramText } from './send';
import { verifyTelegramSecret } from './signature';

export { telegramCredentialsSchema, type TelegramCredentials } from './credentials';

/** Telegram has no GET handshake: the webhook is registered by calling setWebhook. */
export const telegramAdapter: PlatformAdapter<TelegramCredentials> = {
  platform: 'telegram',
  credentialsSchema: telegramCredentialsSchema,
  verify: (request, credentials) => verifyTelegramSecret(request, credentials.secretToken),
  parse: (request) => parseTelegramUpdate(request.rawBody),
  send: sendTelegramText,
};
