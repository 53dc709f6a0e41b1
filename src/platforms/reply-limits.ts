import type { PlatformName } from './contract';

/**
 * The longest text one reply may carry on each platform, from the platforms'
 * documentation. `characters` are counted as JavaScript's `length` does
 * (UTF-16 code units): an emoji counts twice, which errs on the safe side of
 * every platform's own count. WeChat's limit is in UTF-8 bytes.
 */
export interface ReplyLimit {
  max: number;
  unit: 'characters' | 'bytes';
}

export const REPLY_LIMITS: Record<PlatformName, ReplyLimit> = {
  // Cloud API text.body: "Maximum 4096 characters".
  whatsapp: { max: 4096, unit: 'characters' },
  // Send API message.text: "must be UTF-8 and has a 2000 character limit".
  messenger: { max: 2000, unit: 'characters' },
  // Messaging API text message: "Max character limit: 5000".
  line: { max: 5000, unit: 'characters' },
  // sendMessage text: "1-4096 characters after entities parsing".
  telegram: { max: 4096, unit: 'characters' },
  // UNCONFIRMED: the customer-service API documents no limit; it answers 45002
  // "content size out of limit", reported at 2048 bytes in WeChat's developer community.
  wechat: { max: 2048, unit: 'bytes' },
  // Seatmate's own ceiling for one chat message where the platform states none.
  generic: { max: 2000, unit: 'characters' },
  web: { max: 2000, unit: 'characters' },
};

/** The largest limit of any platform: the HTTP schema's outer bound. */
export const LONGEST_REPLY = Math.max(...Object.values(REPLY_LIMITS).map((limit) => limit.max));

/** The reply's length in the limit's unit. */
export function replyLength(text: string, limit: ReplyLimit): number {
  return limit.unit === 'bytes' ? Buffer.byteLength(text, 'utf8') : text.length;
}
