import {
  type InboundRequest,
  kindLabel,
  type MessageEvent,
  type MessageMedia,
  type OpenEvent,
  type ParsedDelivery,
} from '../contract';
import { invalidPayload } from '../payload-schema';
import type { WechatCredentials } from './credentials';
import { extractEncrypt } from './envelope';
import { decryptWechatMessage, WechatCryptoError } from './message-crypto';
import { isEncryptedDelivery } from './signature';
import { parseWechatXml, stringField } from './xml';

/** Events that are not a request to talk (docs/platforms.md): follow, unfollow, scan, a link, a location report. */
const SKIPPED_EVENTS = new Set(['SUBSCRIBE', 'UNSUBSCRIBE', 'SCAN', 'VIEW', 'LOCATION']);

/** WeChat stops retrying on an empty 200 body; any reply goes later through the customer-service API. */
const EMPTY_RESPONSE = { status: 200, contentType: 'text/plain', body: '' };

function required(fields: Record<string, unknown>, name: string): string {
  const value = stringField(fields, name);
  if (value === undefined || value === '') throw invalidPayload(name, 'is missing');
  return value;
}

function textOf(fields: Record<string, unknown>, msgType: string): string {
  const extra = (name: string) => stringField(fields, name);
  switch (msgType) {
    case 'text':
      return extra('Content') ?? '';
    case 'voice':
      // Recognition is present when the account enabled speech recognition.
      return extra('Recognition') ? `[voice] ${extra('Recognition')}` : '[voice]';
    case 'location':
      return extra('Label') ? `[location] ${extra('Label')}` : '[location]';
    case 'link':
      return extra('Title') ? `[link] ${extra('Title')}` : '[link]';
    case 'shortvideo':
      return '[video]';
    default:
      return `[${msgType}]`;
  }
}

function innerXml(
  request: InboundRequest,
  credentials: WechatCredentials,
): Record<string, unknown> {
  if (!isEncryptedDelivery(request) || !credentials.encodingAESKey) {
    const plain = parseWechatXml(request.rawBody.toString('utf8'));
    if (!plain) throw invalidPayload('body', 'is not a WeChat <xml> document');
    return plain;
  }
  // The outer envelope is never parsed: only the signed Encrypt value counts.
  const encrypted = extractEncrypt(request.rawBody);
  if (!encrypted) throw invalidPayload('Encrypt', 'is missing');
  try {
    const inner = parseWechatXml(
      decryptWechatMessage(encrypted, credentials.encodingAESKey, credentials.appId),
    );
    if (!inner) throw invalidPayload('Encrypt', 'does not decrypt to a WeChat <xml> document');
    return inner;
  } catch (error) {
    if (error instanceof WechatCryptoError) throw invalidPayload('Encrypt', error.message);
    throw error;
  }
}

/**
 * One message per POST. Events (follow, menu click, scan...) are not
 * something the buyer said and yield nothing; MsgId, WeChat's documented
 * dedupe key, stays a string.
 */
export function parseWechatDelivery(
  request: InboundRequest,
  credentials: WechatCredentials,
): ParsedDelivery {
  const fields = innerXml(request, credentials);
  const msgType = required(fields, 'MsgType');
  if (msgType === 'event') {
    const event = stringField(fields, 'Event') ?? '';
    // The empty answer is sent whatever the event: WeChat would only retry a refusal.
    if (event.toUpperCase() !== 'CLICK' && !SKIPPED_EVENTS.has(event.toUpperCase()))
      return { events: [], unknownKinds: [kindLabel(`event:${event}`)], response: EMPTY_RESPONSE };
    return { events: menuClick(fields), response: EMPTY_RESPONSE };
  }
  const openId = required(fields, 'FromUserName');
  const createTime = required(fields, 'CreateTime');
  if (!/^\d{1,12}$/.test(createTime)) throw invalidPayload('CreateTime', 'must be Unix seconds');
  const msgId = required(fields, 'MsgId');
  if (!/^\d+$/.test(msgId)) throw invalidPayload('MsgId', 'must be a decimal integer');
  const event: MessageEvent = {
    kind: 'message',
    eventId: msgId,
    messageId: msgId,
    buyer: { id: openId },
    from: 'buyer',
    text: textOf(fields, msgType),
    ...mediaOf(fields, msgType),
    sentAt: new Date(Number(createTime) * 1000).toISOString(),
    replyContext: { openId, officialAccount: required(fields, 'ToUserName') },
  };
  return { events: [event], response: EMPTY_RESPONSE };
}

/**
 * A custom-menu CLICK (e.g. "联系客服") gives the shop a short window to
 * answer (3 messages within a minute, per the sendCustomMessage reference),
 * so it opens the conversation. Follow, scan, VIEW (a link) and other events
 * are not a request to talk and yield nothing. Events carry no MsgId: WeChat
 * documents FromUserName + CreateTime as their dedupe key.
 */
function menuClick(fields: Record<string, unknown>): OpenEvent[] {
  if (stringField(fields, 'Event')?.toUpperCase() !== 'CLICK') return [];
  const openId = required(fields, 'FromUserName');
  const createTime = required(fields, 'CreateTime');
  if (!/^\d{1,12}$/.test(createTime)) throw invalidPayload('CreateTime', 'must be Unix seconds');
  const key = stringField(fields, 'EventKey');
  return [
    {
      kind: 'open',
      eventId: `click/${openId}/${createTime}`,
      buyer: { id: openId },
      label: key ? `[menu] ${key}` : '[menu]',
      sentAt: new Date(Number(createTime) * 1000).toISOString(),
      replyContext: { openId, officialAccount: required(fields, 'ToUserName') },
    },
  ];
}

/** Image, voice and video carry a MediaId for the temporary-media API; a location its coordinates and label. */
function mediaOf(fields: Record<string, unknown>, msgType: string): { media?: MessageMedia } {
  const field = (name: string) => stringField(fields, name);
  const ref = field('MediaId');
  const withRef = (kind: MessageMedia['kind']) => ({ media: { kind, ...(ref ? { ref } : {}) } });
  switch (msgType) {
    case 'image':
      return withRef('image');
    case 'voice':
      return withRef('audio');
    case 'video':
    case 'shortvideo':
      return withRef('video');
    case 'location': {
      const latitude = Number(field('Location_X'));
      const longitude = Number(field('Location_Y'));
      if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) return {};
      const label = field('Label');
      return { media: { kind: 'location', latitude, longitude, ...(label ? { label } : {}) } };
    }
    default:
      return {};
  }
}
