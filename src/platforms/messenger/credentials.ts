import { z } from 'zod';
import { requiredCredential } from '../credential-field';

export const messengerCredentialsSchema = z.object({
  /** Meta app secret: keys the X-Hub-Signature-256 HMAC. */
  appSecret: requiredCredential('appSecret'),
  /**
   * The Meta app's id. Echoes carry the id of the app that sent the message:
   * ours means Seatmate sent it (already recorded), any other means a person
   * typed it in Page Inbox or another tool.
   */
  appId: requiredCredential('appId').regex(/^\d+$/, {
    error: 'appId must be the numeric Meta app id',
  }),
  /** The string typed into "Verify token" in the app's Messenger webhook settings. */
  verifyToken: requiredCredential('verifyToken'),
  /** A Page access token with pages_messaging. */
  pageAccessToken: requiredCredential('pageAccessToken'),
  /** When set, entries for other Pages of the same app are ignored. */
  pageId: z
    .string()
    .trim()
    .regex(/^\d+$/, { error: 'pageId must be the numeric Page id' })
    .optional(),
});

export type MessengerCredentials = z.infer<typeof messengerCredentialsSchema>;
