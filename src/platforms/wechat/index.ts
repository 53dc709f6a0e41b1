import type { PlatformAdapter } from '../contract';
import { type WechatCredentials, wechatCredentialsSchema } from './credentials';
import { fetchWechatMedia } from './media';
import { parseWechatDelivery } from './parse';
import { sendWechatText } from './send';
import { answerWechatHandshake, verifyWechatDelivery, wechatReplayFingerprint } from './signature';

export { type WechatCredentials, wechatCredentialsSchema } from './credentials';

export const wechatAdapter: PlatformAdapter<WechatCredentials> = {
  platform: 'wechat',
  credentialsSchema: wechatCredentialsSchema,
  verify: verifyWechatDelivery,
  replayFingerprint: wechatReplayFingerprint,
  parse: parseWechatDelivery,
  handshake: answerWechatHandshake,
  send: sendWechatText,
  fetchMedia: fetchWechatMedia,
};
