import { describe, expect, it } from 'vitest';
import type { MessageEvent } from '../../../src/platforms/contract';
import { lineAdapter } from '../../../src/platforms/line';
import { messengerAdapter } from '../../../src/platforms/messenger';
import { telegramAdapter } from '../../../src/platforms/telegram';
import { wechatAdapter } from '../../../src/platforms/wechat';
import { whatsappAdapter } from '../../../src/platforms/whatsapp';
import { lineMediaEvent, signedLineDelivery } from '../../fixtures/platforms/line';
import {
  MESSENGER_APP_ID,
  messengerImageAttachment,
  signedMessengerDelivery,
} from '../../fixtures/platforms/messenger';
import { asInbound } from '../../fixtures/platforms/signed-request';
import {
  telegramDelivery,
  telegramMediaUpdate,
  telegramPhotoUpdate,
} from '../../fixtures/platforms/telegram';
import { signedWechatDelivery, wechatMediaXml } from '../../fixtures/platforms/wechat';
import {
  signedWhatsappDelivery,
  whatsappDeliveryBody,
  whatsappMessage,
} from '../../fixtures/platforms/whatsapp';

const wa = { appSecret: 'a', verifyToken: 'v', accessToken: 't', phoneNumberId: '106540352242922' };

function waEvent(raw: Record<string, unknown>): MessageEvent {
  const body = whatsappDeliveryBody({ messages: [whatsappMessage({ id: 'wamid.M', raw })] });
  const request = signedWhatsappDelivery({ secret: wa.appSecret, body });
  return whatsappAdapter.parse(asInbound(request), wa).events[0] as MessageEvent;
}

describe('media as typed messages, text kept as a readable label', () => {
  it("WhatsApp: Meta's image example (id, mime_type, caption) and a location", () => {
    const image = waEvent({
      type: 'image',
      image: {
        caption: 'this one, in red?',
        mime_type: 'image/jpeg',
        sha256: 'a8e0…',
        id: '1003383421387256',
      },
    });
    expect(image.media).toEqual({
      kind: 'image',
      ref: '1003383421387256',
      mimeType: 'image/jpeg',
      caption: 'this one, in red?',
    });
    expect(image.text).toBe('[image] this one, in red?');
    const voice = waEvent({
      type: 'audio',
      audio: { mime_type: 'audio/ogg; codecs=opus', sha256: 'x', id: '2223', voice: true },
    });
    expect(voice.media).toEqual({ kind: 'audio', ref: '2223', mimeType: 'audio/ogg; codecs=opus' });
    const place = waEvent({
      type: 'location',
      location: {
        latitude: 37.483307,
        longitude: 122.148981,
        name: 'Pablo Morales',
        address: '1 Hacker Way',
      },
    });
    expect(place.media).toEqual({
      kind: 'location',
      latitude: 37.483307,
      longitude: 122.148981,
      label: 'Pablo Morales, 1 Hacker Way',
    });
    expect(place.text).toBe('[location] Pablo Morales');
    const doc = waEvent({
      type: 'document',
      document: { filename: 'invoice.pdf', mime_type: 'application/pdf', id: '77' },
    });
    expect(doc.media).toEqual({
      kind: 'file',
      ref: '77',
      mimeType: 'application/pdf',
      fileName: 'invoice.pdf',
    });
  });

  it('LINE: an image is fetched by message id; a location has coordinates and a label', () => {
    const location = {
      ...lineMediaEvent({ webhookEventId: 'L2', messageId: '3253', type: 'location' }),
      message: {
        id: '3253',
        type: 'location',
        title: 'my location',
        address: '1-3 Kioicho, Chiyoda City, Tokyo',
        latitude: 35.67966,
        longitude: 139.73669,
      },
    };
    const request = signedLineDelivery({
      secret: 's',
      events: [
        lineMediaEvent({ webhookEventId: 'L1', messageId: '3252', type: 'image' }),
        location,
      ],
    });
    const [image, place] = lineAdapter.parse(asInbound(request), {
      channelSecret: 's',
      channelAccessToken: 't',
    }).events as MessageEvent[];
    expect(image?.media).toEqual({ kind: 'image', ref: '3252' });
    // An image from an external provider (contentProvider.type "external") is not on the content API.
    const external = signedLineDelivery({
      secret: 's',
      events: [
        {
          ...lineMediaEvent({ webhookEventId: 'L3', messageId: '3254', type: 'image' }),
          message: {
            id: '3254',
            type: 'image',
            contentProvider: {
              type: 'external',
              originalContentUrl: 'https://example.com/original.jpg',
              previewImageUrl: 'https://example.com/preview.jpg',
            },
          },
        },
      ],
    });
    const [outside] = lineAdapter.parse(asInbound(external), {
      channelSecret: 's',
      channelAccessToken: 't',
    }).events as MessageEvent[];
    expect(outside?.media).toEqual({ kind: 'image' });
    expect(place?.media).toEqual({
      kind: 'location',
      latitude: 35.67966,
      longitude: 139.73669,
      label: 'my location, 1-3 Kioicho, Chiyoda City, Tokyo',
    });
    expect(place?.text).toBe('[location] my location');
  });

  it('Telegram: the largest photo size and the caption; a venue as a location', () => {
    const tg = { botToken: '1:A', secretToken: 's' };
    const photo = telegramAdapter.parse(
      asInbound(
        telegramDelivery({
          secretToken: 's',
          update: telegramPhotoUpdate({ updateId: 1, caption: 'size?' }),
        }),
      ),
      tg,
    ).events[0] as MessageEvent;
    expect(photo.media).toEqual({ kind: 'image', ref: 'AgAC', caption: 'size?' });
    const venue = {
      update_id: 2,
      message: {
        message_id: 44,
        date: 1700000000,
        from: { id: 111111111, is_bot: false, first_name: 'Ann' },
        chat: { id: 111111111, type: 'private' },
        location: { latitude: 51.5, longitude: -0.12 },
        venue: {
          location: { latitude: 51.5, longitude: -0.12 },
          title: 'Shop front',
          address: 'High St',
        },
      },
    };
    const place = telegramAdapter.parse(
      asInbound(telegramDelivery({ secretToken: 's', update: venue })),
      tg,
    ).events[0] as MessageEvent;
    expect(place.media).toEqual({
      kind: 'location',
      latitude: 51.5,
      longitude: -0.12,
      label: 'Shop front',
    });
  });

  it("WeChat: an image's MediaId, and the reference's location example", () => {
    const credentials = { appId: 'wx2c2769f8efd9abc2', appSecret: 's', token: 'spamtest' };
    const xml =
      '<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName>' +
      '<CreateTime>1351776360</CreateTime><MsgType><![CDATA[location]]></MsgType><Location_X>23.134521</Location_X>' +
      '<Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[位置信息]]></Label><MsgId>1234567890123456</MsgId></xml>';
    const request = signedWechatDelivery({
      token: credentials.token,
      xml,
      timestamp: '1351776360',
    });
    const [place] = wechatAdapter.parse(asInbound(request, 1351776360_000), credentials)
      .events as MessageEvent[];
    expect(place?.media).toEqual({
      kind: 'location',
      latitude: 23.134521,
      longitude: 113.358803,
      label: '位置信息',
    });
    expect(place?.text).toBe('[location] 位置信息');
  });

  it("Messenger: an attachment's CDN URL is the reference; a sticker is an image with sticker_id", () => {
    const credentials = {
      appId: MESSENGER_APP_ID,
      appSecret: 'm',
      verifyToken: 'v',
      pageAccessToken: 'p',
    };
    const request = signedMessengerDelivery({
      secret: 'm',
      messaging: [
        messengerImageAttachment({ mid: 'm_1' }),
        messengerImageAttachment({ mid: 'm_2', type: 'file', url: 'https://cdn.fbsbx.com/f.pdf' }),
        messengerImageAttachment({ mid: 'm_3', stickerId: 369239263222822 }),
      ],
    });
    const [image, file, sticker] = messengerAdapter.parse(asInbound(request), credentials)
      .events as MessageEvent[];
    expect(image?.media).toEqual({
      kind: 'image',
      ref: 'https://scontent.xx.fbcdn.net/v/t1.15752-9/123_n.png?oh=abc&oe=def',
    });
    expect(image?.text).toBe('[image]');
    expect(file?.media).toEqual({ kind: 'file', ref: 'https://cdn.fbsbx.com/f.pdf' });
    expect(sticker?.media?.kind).toBe('sticker');
  });

  it('WeChat: voice, video and short video carry their MediaId for the temporary-media API', () => {
    const credentials = { appId: 'wx2c2769f8efd9abc2', appSecret: 's', token: 'spamtest' };
    const kinds = (['voice', 'video', 'shortvideo'] as const).map((msgType, index) => {
      const request = signedWechatDelivery({
        token: credentials.token,
        xml: wechatMediaXml({ msgId: `123456789012345${index}`, msgType, mediaId: `m-${msgType}` }),
        timestamp: '1357290913',
      });
      const [event] = wechatAdapter.parse(asInbound(request, 1357290913_000), credentials)
        .events as MessageEvent[];
      return event?.media;
    });
    expect(kinds).toEqual([
      { kind: 'audio', ref: 'm-voice' },
      { kind: 'video', ref: 'm-video' },
      { kind: 'video', ref: 'm-shortvideo' },
    ]);
  });

  it('Telegram: voice, video, document (with its name) and sticker by file_id', () => {
    const tg = { botToken: '1:A', secretToken: 's' };
    const media = [
      { voice: { file_id: 'V1', file_unique_id: 'v', duration: 2, mime_type: 'audio/ogg' } },
      { video: { file_id: 'V2', file_unique_id: 'w', width: 1, height: 1, duration: 1 } },
      {
        document: {
          file_id: 'D1',
          file_unique_id: 'd',
          file_name: 'quote.pdf',
          mime_type: 'application/pdf',
        },
      },
      { sticker: { file_id: 'S1', file_unique_id: 's', type: 'regular', width: 512, height: 512 } },
    ].map((fields, index) => {
      const update = telegramMediaUpdate({
        updateId: 100 + index,
        messageId: 60 + index,
        media: fields,
      });
      return (
        telegramAdapter.parse(asInbound(telegramDelivery({ secretToken: 's', update })), tg)
          .events[0] as MessageEvent
      ).media;
    });
    expect(media).toEqual([
      { kind: 'audio', ref: 'V1', mimeType: 'audio/ogg' },
      { kind: 'video', ref: 'V2' },
      { kind: 'file', ref: 'D1', mimeType: 'application/pdf', fileName: 'quote.pdf' },
      { kind: 'sticker', ref: 'S1' },
    ]);
  });
});
