import type { PlatformAdapter } from '../contract';
import { answerHubChallenge, verifyHubSignature } from '../meta-webhook';
import { type WhatsappCredentials, whatsappCredentialsSchema } from './credentials';
import { fetchWhatsappMedia } from './media';
import { parseWhatsappDelivery } from './parse';
import { sendWhatsappText } from './send';

export { type WhatsappCredentials, whatsappCredentialsSchema } from './credentials';

export const whatsappAdapter: PlatformAdapter<WhatsappCredentials> = {
  platform: 'whatsapp',
  credentialsSchema: whatsappCredentialsSchema,
  verify: (request, credentials) => verifyHubSignature(request, credentials.appSecret),
  parse: (request, credentials) => parseWhatsappDelivery(request.rawBody, credentials),
  handshake: (request, credentials) => answerHubChallenge(request, credentials.verifyToken),
  send: sendWhatsappText,
  fetchMedia: fetchWhatsappMedia,
};
