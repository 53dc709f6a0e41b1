/** Types for node-webot's wechat-crypto (a test-only reference client; it ships none). */
declare module 'wechat-crypto' {
  export default class WXBizMsgCrypt {
    constructor(token: string, encodingAESKey: string, id: string);
    getSignature(timestamp: string, nonce: string, encrypt: string): string;
    encrypt(text: string): string;
    decrypt(text: string): { message: string; id: string };
  }
}
