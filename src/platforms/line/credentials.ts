import { z } from 'zod';
import { requiredCredential } from '../credential-field';

export const lineCredentialsSchema = z.object({
  /** Channel secret (Basic settings): keys the x-line-signature HMAC. */
  channelSecret: requiredCredential('channelSecret'),
  /** Channel access token (Messaging API tab), sent as Bearer on reply and push. */
  channelAccessToken: requiredCredential('channelAccessToken'),
});

export type LineCredentials = z.infer<typeof lineCredentialsSchema>;
