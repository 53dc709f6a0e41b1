import { z } from 'zod';
import { requiredCredential } from '../credential-field';

export const wechatCredentialsSchema = z.object({
  /** The Official Account's AppID (开发者ID), also the tail of every decrypted safe-mode message. */
  appId: requiredCredential('appId').regex(/^wx[0-9a-zA-Z]+$/, {
    error: 'appId must be the AppID starting with "wx"',
  }),
  /** AppSecret (开发者密码), exchanged for the access token used to send. */
  appSecret: requiredCredential('appSecret'),
  /** The Token (令牌) typed into the server configuration; it keys every signature. */
  token: requiredCredential('token').regex(/^[A-Za-z0-9]{3,32}$/, {
    error: 'token must be 3-32 letters or digits, as WeChat requires',
  }),
  /**
   * EncodingAESKey (消息加解密密钥), 43 characters. Set it when the account uses
   * safe (安全) or compatible mode; deliveries must then be encrypted.
   */
  encodingAESKey: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9]{43}$/, { error: 'encodingAESKey must be the 43-character EncodingAESKey' })
    .optional(),
});

export type WechatCredentials = z.infer<typeof wechatCredentialsSchema>;
