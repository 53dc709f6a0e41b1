import { z } from 'zod';
import { requiredCredential } from '../credential-field';

export const telegramCredentialsSchema = z.object({
  /** The token BotFather gave, `123456:ABC-...`; it is part of every Bot API URL. */
  botToken: requiredCredential('botToken').regex(/^\d+:[A-Za-z0-9_-]+$/, {
    error: 'botToken must look like 123456:ABC-DEF...',
  }),
  /** The `secret_token` passed to setWebhook; Telegram echoes it in X-Telegram-Bot-Api-Secret-Token. */
  // At least 32 characters: 24 random bytes in base64url, like every secret Seatmate accepts.
  secretToken: requiredCredential('secretToken').regex(/^[A-Za-z0-9_-]{32,256}$/, {
    error:
      'secretToken must be 32-256 characters of A-Z, a-z, 0-9, _ and - (24 random bytes or more, e.g. base64url of 24 random bytes)',
  }),
});

export type TelegramCredentials = z.infer<typeof telegramCredentialsSchema>;
