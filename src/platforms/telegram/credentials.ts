import { z } from 'zod';
import { requiredCredential } from '../credential-field';

export const telegramCredentialsSchema = z.object({
  /** The token BotFather gave, `123456:ABC-...`; it is part of every Bot API URL. */
  botToken: requiredCredential('botToken').regex(/^\d+:[A-Za-z0-9_-]+$/, {
    error: 'botToken must look like 123456:ABC-DEF...',
  }),
  /** The `secret_token` passed to setWebhook; Telegram echoes it in X-Telegram-Bot-Api-Secret-Token. */
  secretToken: requiredCredential('secretToken').regex(/^[A-Za-z0-9_-]{1,256}$/, {
    error: 'secretToken must be 1-256 characters of A-Z, a-z, 0-9, _ and -',
  }),
});

export type TelegramCredentials = z.infer<typeof telegramCredentialsSchema>;
