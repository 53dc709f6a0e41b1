import type { PlatformAdapter } from '../contract';
import { type TelegramCredentials, telegramCredentialsSchema } from './credentials';
import { fetchTelegramMedia } from './media';
import { parseTelegramUpdate } from './parse';
import { sendTelegramText } from './send';
import { verifyTelegramSecret } from './signature';

export { type TelegramCredentials, telegramCredentialsSchema } from './credentials';

/** Telegram has no GET handshake: the webhook is registered by calling setWebhook. */
export const telegramAdapter: PlatformAdapter<TelegramCredentials> = {
  platform: 'telegram',
  credentialsSchema: telegramCredentialsSchema,
  verify: (request, credentials) => verifyTelegramSecret(request, credentials.secretToken),
  parse: (request) => parseTelegramUpdate(request.rawBody),
  send: sendTelegramText,
  fetchMedia: fetchTelegramMedia,
};
