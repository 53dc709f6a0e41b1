import type { PlatformAdapter } from '../contract';
import { type LineCredentials, lineCredentialsSchema } from './credentials';
import { fetchLineMedia } from './media';
import { parseLineDelivery } from './parse';
import { sendLineText } from './send';
import { verifyLineSignature } from './signature';

export { type LineCredentials, lineCredentialsSchema } from './credentials';

/** LINE has no GET handshake: the console's "Verify" button POSTs an empty, signed batch. */
export const lineAdapter: PlatformAdapter<LineCredentials> = {
  platform: 'line',
  credentialsSchema: lineCredentialsSchema,
  verify: (request, credentials) => verifyLineSignature(request, credentials.channelSecret),
  parse: (request) => parseLineDelivery(request.rawBody),
  send: sendLineText,
  fetchMedia: fetchLineMedia,
};
