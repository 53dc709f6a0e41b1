import type { PlatformName } from './contract';

/**
 * What one delivery of each platform may weigh before anything is verified,
 * and how many events a verified delivery may carry. Sized from each
 * platform's real payloads with headroom, so a stranger's junk is cut off
 * after at most this many bytes instead of the old 1 MiB for everyone.
 */
export interface DeliveryLimits {
  maxBodyBytes: number;
  maxEvents: number;
}

const KIB = 1024;

export const DELIVERY_LIMITS: Record<PlatformName, DeliveryLimits> = {
  // One Standard Webhooks event; text is at most 10,000 characters (≤ 60 KiB even fully escaped).
  generic: { maxBodyBytes: 128 * KIB, maxEvents: 1 },
  // Meta batches up to 1,000 updates per POST, and its Cloud API webhooks page says "Webhooks
  // payloads can be up to 3MB": refused, a signed batch would be retried for 7 days in vain.
  whatsapp: { maxBodyBytes: 4 * 1024 * KIB, maxEvents: 1000 },
  // The same batches; a Messenger text is at most 2,000 characters.
  messenger: { maxBodyBytes: 1024 * KIB, maxEvents: 1000 },
  // LINE sends several events per POST (5,000-character texts); no documented maximum, so generous.
  line: { maxBodyBytes: 512 * KIB, maxEvents: 500 },
  // One message per POST; a text is at most 2,048 bytes, encrypted and base64-encoded in safe mode.
  wechat: { maxBodyBytes: 32 * KIB, maxEvents: 1 },
  // One update per POST; a 4,096-character text, its entities and a quoted message.
  telegram: { maxBodyBytes: 128 * KIB, maxEvents: 1 },
  // The storefront widget posts to its own routes, one message at a time, never to /webhooks.
  web: { maxBodyBytes: 16 * KIB, maxEvents: 1 },
};
