import type { PlatformAdapter } from '../contract';
import { wechatCredentialsSchema, type WechatCredentials } from './credentials';
import { parseWechatDelivery } from './parse';
import { sendWechatText } from './send';
import { answerWechatHandshake, verifyWechatDelivery } from './signature';

export { wechatCredentialsSchema, type WechatCredentials } from './credentials';

export const wechatAdapter: PlatformAdapter<WechatCredentials> = {
  platform: 'wechat',
  credentialsSchema: wechatCredentialsSchema,
  verify: verifyWechatDelivery,
  parse: parseWechatDelivery,
  handshake: answerWechatHandshake,
  send: sendWechatText,
};
