import type { PlatformAdapter } from '../contract';
import { answerHubChallenge, verifyHubSignature } from '../meta-webhook';
import { messengerCredentialsSchema, type MessengerCredentials } from './credentials';
import { parseMessengerDelivery } from './parse';
import { sendMessengerText } from './send';

export { messengerCredentialsSchema, type MessengerCredentials } from './credentials';

export const messengerAdapter: PlatformAdapter<MessengerCredentials> = {
  platform: 'messenger',
  credentialsSchema: messengerCredentialsSchema,
  verify: (request, credentials) => verifyHubSignature(request, credentials.appSecret),
  parse: (request, credentials) => parseMessengerDelivery(request.rawBody, credentials),
  handshake: (request, credentials) => answerHubChallenge(request, credentials.verifyToken),
  send: sendMessengerText,
};
