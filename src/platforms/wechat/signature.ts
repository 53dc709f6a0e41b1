import { createHash } from 'node:crypto';
import { AppError } from '../../shared/errors';
import { safeEqual } from '../../shared/tokens';
import type { InboundRequest } from '../contract';
import type { WechatCredentials } from './credentials';
import { extractEncrypt } from './envelope';
import { decryptWechatMessage, WechatCryptoError, wechatSignature } from './message-crypto';

/** WeChat signs a timestamp but documents no tolerance; the API's ±300 s stops replays of old query strings. */
export const TIMESTAMP_TOLERANCE_SECONDS = 300;

const reject = (message: string) => new AppError(401, 'invalid_signature', message);

/** Whether this POST is an encrypted (safe or compatible mode) delivery. */
export function isEncryptedDelivery(request: InboundRequest): boolean {
  return request.query.encrypt_type === 'aes';
}

function checkTimestamp(request: InboundRequest): string {
  const timestamp = request.query.timestamp;
  if (!timestamp || !/^\d{1,12}$/.test(timestamp))
    throw reject('timestamp is missing or not Unix seconds.');
  if (Math.abs(request.now / 1000 - Number(timestamp)) > TIMESTAMP_TOLERANCE_SECONDS) {
    throw reject(`timestamp is more than ${TIMESTAMP_TOLERANCE_SECONDS} s from now.`);
  }
  return timestamp;
}

/**
 * Plain mode: `signature` = sha1(sort(token, timestamp, nonce)). It does not
 * cover the body, so a shop that has an EncodingAESKey only accepts safe-mode
 * deliveries, whose `msg_signature` also covers the `Encrypt` element and
 * whose plaintext must end with the shop's AppID.
 */
export function verifyWechatDelivery(
  request: InboundRequest,
  credentials: WechatCredentials,
): void {
  const timestamp = checkTimestamp(request);
  const nonce = request.query.nonce ?? '';
  if (credentials.encodingAESKey === undefined) {
    // Compatible mode (兼容模式) sends the plaintext fields beside <Encrypt>, still signed with
    // `signature`: readable as plain mode. Safe mode (ciphertext only) needs the key.
    if (isEncryptedDelivery(request) && !hasPlaintext(request.rawBody))
      throw reject('An encrypted delivery arrived but no encodingAESKey is set for this shop.');
    const received = request.query.signature;
    if (!received) throw reject('signature is missing.');
    if (!safeEqual(received, wechatSignature([credentials.token, timestamp, nonce]))) {
      throw reject('signature does not match.');
    }
    return;
  }
  if (!isEncryptedDelivery(request))
    throw reject(
      'This shop has an encodingAESKey, so deliveries must be encrypted (encrypt_type=aes).',
    );
  const received = request.query.msg_signature;
  if (!received) throw reject('msg_signature is missing.');
  const encrypted = extractEncrypt(request.rawBody);
  if (!encrypted) throw reject('The body has no single base64 <Encrypt> element to verify.');
  if (!safeEqual(received, wechatSignature([credentials.token, timestamp, nonce, encrypted]))) {
    throw reject('msg_signature does not match.');
  }
  try {
    decryptWechatMessage(encrypted, credentials.encodingAESKey, credentials.appId);
  } catch (error) {
    if (error instanceof WechatCryptoError)
      throw reject(`Encrypt cannot be opened: ${error.message}`);
    throw error;
  }
}

/** Whether a body carries the plaintext message (plain or compatible mode), not only <Encrypt>. */
function hasPlaintext(rawBody: Buffer): boolean {
  return rawBody.includes('<MsgType>');
}

/**
 * Plain mode signs the query only: its (timestamp, nonce, signature) is
 * remembered with the body's hash for twice the timestamp window, so a captured
 * signature can replay only its own body (which the MsgId dedupe absorbs).
 * Only a query signed with the shop's token is remembered; ingest does so
 * before verifying, so a safe-mode push refused for want of the key still uses
 * its query up.
 */
export function wechatReplayFingerprint(
  request: InboundRequest,
  credentials: WechatCredentials,
): { signedQuery: string; body: string; ttlSeconds: number } | undefined {
  if (credentials.encodingAESKey !== undefined) return undefined;
  const { timestamp = '', nonce = '', signature = '' } = request.query;
  if (!signature || !safeEqual(signature, wechatSignature([credentials.token, timestamp, nonce])))
    return undefined;
  return {
    signedQuery: createHash('sha256').update(`${timestamp}|${nonce}|${signature}`).digest('hex'),
    body: createHash('sha256').update(request.rawBody).digest('hex'),
    ttlSeconds: 2 * TIMESTAMP_TOLERANCE_SECONDS,
  };
}

/**
 * The GET server check (服务器配置): echo `echostr` once `signature` matches.
 * When WeChat sends it encrypted (a `msg_signature` over it, as WeCom-style
 * safe mode does), the signature covers `echostr` and the decrypted text is echoed.
 * A mismatch means the shop's token differs from the one in the console: 403.
 */
export function answerWechatHandshake(
  request: InboundRequest,
  credentials: WechatCredentials,
): { contentType: string; body: string } {
  const {
    timestamp = '',
    nonce = '',
    echostr,
    signature,
    msg_signature: msgSignature,
  } = request.query;
  if (echostr === undefined) {
    throw new AppError(400, 'invalid_handshake', 'echostr is missing.', {
      details: { field: 'echostr' },
    });
  }
  const refuse = () =>
    new AppError(
      403,
      'invalid_verify_token',
      "The signature does not match the shop's WeChat token.",
    );
  if (msgSignature !== undefined) {
    if (!credentials.encodingAESKey) throw refuse();
    if (!safeEqual(msgSignature, wechatSignature([credentials.token, timestamp, nonce, echostr])))
      throw refuse();
    try {
      return {
        contentType: 'text/plain',
        body: decryptWechatMessage(echostr, credentials.encodingAESKey, credentials.appId),
      };
    } catch (error) {
      if (error instanceof WechatCryptoError) throw refuse();
      throw error;
    }
  }
  if (
    signature === undefined ||
    !safeEqual(signature, wechatSignature([credentials.token, timestamp, nonce]))
  ) {
    throw refuse();
  }
  return { contentType: 'text/plain', body: echostr };
}
