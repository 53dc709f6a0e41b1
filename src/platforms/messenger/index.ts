import type { PlatformAdapter } from '../contract';
import { answerHubChallenge, verifyHubSignature } from '../meta-webhook';
import { type MessengerCredentials, messengerCredentialsSchema } from './credentials';
import { fetchMessengerMedia } from './media';
import { parseMessengerDelivery } from './parse';
import { sendMessengerText } from './send';

export { type MessengerCredentials, messengerCredentialsSchema } from './credentials';

export const messengerAdapter: PlatformAdapter<MessengerCredentials> = {
  platform: 'messenger',
  credentialsSchema: messengerCredentialsSchema,
  verify: (request, credentials) => verifyHubSignature(request, credentials.appSecret),
  parse: (request, credentials) => parseMessengerDelivery(request.rawBody, credentials),
  handshake: (request, credentials) => answerHubChallenge(request, credentials.verifyToken),
  send: sendMessengerText,
  fetchMedia: fetchMessengerMedia,
};
