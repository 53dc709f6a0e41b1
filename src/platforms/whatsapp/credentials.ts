import { z } from 'zod';
import { requiredCredential } from '../credential-field';

export const whatsappCredentialsSchema = z.object({
  /** Meta app secret: keys the X-Hub-Signature-256 HMAC. */
  appSecret: requiredCredential('appSecret'),
  /** The string typed into "Verify token" in the app's WhatsApp webhook settings. */
  verifyToken: requiredCredential('verifyToken'),
  /** A system-user access token with whatsapp_business_messaging, sent as Bearer. */
  accessToken: requiredCredential('accessToken'),
  /** The business number's id (not the phone number itself): the send path and the shop's key. */
  phoneNumberId: requiredCredential('phoneNumberId').regex(/^\d+$/, {
    error: 'phoneNumberId must be the numeric id Meta shows, not the phone number',
  }),
});

export type WhatsappCredentials = z.infer<typeof whatsappCredentialsSchema>;
