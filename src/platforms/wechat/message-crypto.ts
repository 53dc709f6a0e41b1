import { createDecipheriv, createHash } from 'node:crypto';

/**
 * WeChat's message encryption (消息加解密): AES-256-CBC with
 * key = base64(EncodingAESKey + "="), IV = the key's first 16 bytes, PKCS#7
 * padding to 32-byte blocks, plaintext = random(16) | uint32 BE length | msg | appid.
 */

export class WechatCryptoError extends Error {}

/** sha1 over the parts sorted as strings and joined: the plain `signature` and the safe-mode `msg_signature`. */
export function wechatSignature(parts: readonly string[]): string {
  return createHash('sha1')
    .update([...parts].sort().join(''))
    .digest('hex');
}

export function aesKeyFrom(encodingAESKey: string): Buffer {
  const key = Buffer.from(`${encodingAESKey}=`, 'base64');
  if (key.length !== 32) throw new WechatCryptoError('EncodingAESKey does not decode to 32 bytes.');
  return key;
}

/** Decrypts an `Encrypt` value (or a safe-mode `echostr`) and checks it was sealed for `appId`. */
export function decryptWechatMessage(
  encrypted: string,
  encodingAESKey: string,
  appId: string,
): string {
  const key = aesKeyFrom(encodingAESKey);
  const cipherText = Buffer.from(encrypted, 'base64');
  if (cipherText.length === 0 || cipherText.length % 16 !== 0) {
    throw new WechatCryptoError('Encrypt is not a whole number of AES blocks.');
  }
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  // WeChat pads to 32 bytes, which Node's PKCS#7 (16-byte) check would reject.
  decipher.setAutoPadding(false);
  const padded = Buffer.concat([decipher.update(cipherText), decipher.final()]);
  const pad = padded[padded.length - 1] ?? 0;
  if (pad < 1 || pad > 32 || pad > padded.length) throw new WechatCryptoError('Bad padding.');
  const plain = padded.subarray(0, padded.length - pad);
  if (plain.length < 20) throw new WechatCryptoError('Plaintext is too short.');
  const length = plain.readUInt32BE(16);
  if (20 + length > plain.length)
    throw new WechatCryptoError('Message length exceeds the plaintext.');
  const message = plain.subarray(20, 20 + length).toString('utf8');
  const sealedFor = plain.subarray(20 + length).toString('utf8');
  if (sealedFor !== appId)
    throw new WechatCryptoError('The message was encrypted for another AppID.');
  return message;
}
