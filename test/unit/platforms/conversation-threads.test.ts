import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { conversationKey } from '../../../src/conversations/conversation-key';
import type { MessageEvent, OutboundReply } from '../../../src/platforms/contract';
import { lineAdapter } from '../../../src/platforms/line';
import { messengerAdapter } from '../../../src/platforms/messenger';
import { telegramAdapter } from '../../../src/platforms/telegram';
import { whatsappAdapter } from '../../../src/platforms/whatsapp';
import {
  LINE_GROUP_ID,
  LINE_ROOM_ID,
  lineGroupTextEvent,
  lineTextEvent,
  signedLineDelivery,
} from '../../fixtures/platforms/line';
import {
  MESSENGER_APP_ID,
  messengerReaction,
  messengerRead,
  signedMessengerDelivery,
} from '../../fixtures/platforms/messenger';
import { testPlatformHttp } from '../../fixtures/platforms/platform-http';
import { asInbound } from '../../fixtures/platforms/signed-request';
import {
  TELEGRAM_BUSINESS_CONNECTION,
  TELEGRAM_FORUM_CHAT_ID,
  telegramBusinessMessageUpdate,
  telegramDelivery,
  telegramForumTopicUpdate,
  telegramGroupUpdate,
  telegramReactionUpdate,
  telegramTextUpdate,
} from '../../fixtures/platforms/telegram';
import {
  metaGroupTextMessage,
  metaMixedIdentityBatch,
  metaReactionMessage,
  metaUsernameTextMessage,
  signedWhatsappDelivery,
  WHATSAPP_BSUID,
  WHATSAPP_GROUP_ID,
} from '../../fixtures/platforms/whatsapp';

const wa = {
  appSecret: 'app-secret-1',
  verifyToken: 'vibecoding',
  accessToken: 'EAAJB-token',
  phoneNumberId: '106540352242922',
};
const line = { channelSecret: 'line-secret', channelAccessToken: 'line-token' };
const tg = { botToken: '123456:ABC-DEF', secretToken: 'tg-secret' };
const messenger = {
  appId: MESSENGER_APP_ID,
  appSecret: 'm-secret',
  verifyToken: 'v',
  pageAccessToken: 'EAAG-page',
};
const now = Date.parse('2026-01-01T12:00:00Z');

function waEvents(body: unknown): MessageEvent[] {
  const request = signedWhatsappDelivery({ secret: wa.appSecret, body });
  return whatsappAdapter.parse(asInbound(request), wa).events as MessageEvent[];
}
function lineEvents(events: unknown[]): MessageEvent[] {
  const request = signedLineDelivery({ secret: line.channelSecret, events });
  return lineAdapter.parse(asInbound(request), line).events as MessageEvent[];
}
function tgEvents(update: unknown): MessageEvent[] {
  const request = telegramDelivery({ secretToken: tg.secretToken, update });
  return telegramAdapter.parse(asInbound(request), tg).events as MessageEvent[];
}
function replyFor(event: MessageEvent, text = 'Yes, we have it.'): OutboundReply {
  return {
    replyId: 'r1',
    conversationId: 'c1',
    shopId: 's1',
    buyerId: conversationKey(event.buyer.id, event.thread),
    text,
    replyContext: event.replyContext,
    lastBuyerMessageAt: now - 60_000,
    repliesSinceLastBuyerMessage: 0,
    now,
  };
}

afterEach(() => nock.cleanAll());

describe('conversation key', () => {
  it('keeps a direct chat under the buyer id and puts groups and topics apart', () => {
    expect(conversationKey('16505551234')).toBe('16505551234');
    expect(conversationKey('U1', { id: 'U1', kind: 'direct' })).toBe('U1');
    expect(conversationKey('U1', { id: 'C9', kind: 'group' })).toBe('group:C9');
    expect(conversationKey('111', { id: '-100/77', kind: 'topic' })).toBe('topic:-100/77');
    expect(conversationKey('111', { id: 'conn/111', kind: 'direct' })).toBe('direct:conn/111');
  });
});

describe('WhatsApp usernames (business-scoped user ids)', () => {
  it('accepts a buyer known only by from_user_id, named from contacts[].user_id', () => {
    const [event] = waEvents(metaUsernameTextMessage);
    expect(event).toMatchObject({
      buyer: { id: WHATSAPP_BSUID, name: 'Maria' },
      from: 'buyer',
      text: 'Is the blue one still in stock?',
      replyContext: { phoneNumberId: wa.phoneNumberId, userId: WHATSAPP_BSUID },
    });
    expect(event?.thread).toBeUndefined();
  });

  it('keeps an ordinary buyer in the same batch under their phone number', () => {
    const events = waEvents(metaMixedIdentityBatch);
    expect(events.map((e) => e.buyer.id)).toEqual(['16505551234', WHATSAPP_BSUID]);
    expect(events[0]?.replyContext).toEqual({
      phoneNumberId: wa.phoneNumberId,
      waId: '16505551234',
    });
  });

  it('answers with recipient set to the user id and no to, as whatsapp-api-js does', async () => {
    const [event] = waEvents(metaUsernameTextMessage);
    const scope = nock('https://graph.facebook.com')
      .post('/v21.0/106540352242922/messages', (body) => {
        expect(body).toEqual({
          messaging_product: 'whatsapp',
          recipient_type: 'individual',
          recipient: WHATSAPP_BSUID,
          type: 'text',
          text: { preview_url: false, body: 'Yes, we have it.' },
        });
        return true;
      })
      .reply(200, { messages: [{ id: 'wamid.out' }] });
    const result = await whatsappAdapter.send!(replyFor(event!), wa, testPlatformHttp());
    expect(result).toEqual({ ok: true, platformMessageId: 'wamid.out' });
    expect(scope.isDone()).toBe(true);
  });
});

describe('WhatsApp groups', () => {
  it('makes a group message its own thread, with the member as the buyer', () => {
    const [event] = waEvents(metaGroupTextMessage({ id: 'wamid.g1' }));
    expect(event).toMatchObject({
      buyer: { id: '16505551234', name: 'Sheena Nelson' },
      thread: { id: WHATSAPP_GROUP_ID, kind: 'group' },
      replyContext: { groupId: WHATSAPP_GROUP_ID },
    });
    expect(conversationKey(event!.buyer.id, event!.thread)).not.toBe('16505551234');
  });

  it('answers in the group: recipient_type "group", to the group id', async () => {
    const [event] = waEvents(metaGroupTextMessage({ id: 'wamid.g2' }));
    const scope = nock('https://graph.facebook.com')
      .post('/v21.0/106540352242922/messages', {
        messaging_product: 'whatsapp',
        recipient_type: 'group',
        to: WHATSAPP_GROUP_ID,
        type: 'text',
        text: { preview_url: false, body: 'Yes, we have it.' },
      })
      .reply(200, { messages: [{ id: 'wamid.out' }] });
    await whatsappAdapter.send!(replyFor(event!), wa, testPlatformHttp());
    expect(scope.isDone()).toBe(true);
  });
});

describe('LINE private and group chats', () => {
  it('keeps a member’s group message apart from their private chat', () => {
    const [direct, group, room] = lineEvents([
      lineTextEvent({ webhookEventId: 'E1', messageId: 'm1' }),
      lineGroupTextEvent({ webhookEventId: 'E2', messageId: 'm2' }),
      lineGroupTextEvent({ webhookEventId: 'E3', messageId: 'm3', room: true }),
    ]);
    expect(direct?.thread).toBeUndefined();
    expect(direct?.replyContext?.to).toBe(direct?.buyer.id);
    expect(group).toMatchObject({
      buyer: { id: direct?.buyer.id },
      thread: { id: LINE_GROUP_ID, kind: 'group' },
      replyContext: { to: LINE_GROUP_ID },
    });
    expect(room).toMatchObject({ thread: { id: LINE_ROOM_ID, kind: 'group' } });
    const keys = [direct, group, room].map((e) => conversationKey(e!.buyer.id, e!.thread));
    expect(new Set(keys).size).toBe(3);
    expect(keys[0]).toBe(direct?.buyer.id);
  });

  it('counts a member without a shared userId as the group, still in the group thread', () => {
    const [event] = lineEvents([
      lineGroupTextEvent({ webhookEventId: 'E4', messageId: 'm4', userId: null }),
    ]);
    expect(event).toMatchObject({
      buyer: { id: LINE_GROUP_ID },
      thread: { id: LINE_GROUP_ID, kind: 'group' },
    });
  });
});

describe('Telegram groups, forum topics and Business chats', () => {
  it('keeps the private chat id as the buyer and conversation, as before', () => {
    const [event] = tgEvents(telegramTextUpdate({ updateId: 1 }));
    expect(event?.buyer.id).toBe('111111111');
    expect(event?.thread).toBeUndefined();
  });

  it('makes a plain group its own thread with the member as the buyer', () => {
    const [event] = tgEvents(telegramGroupUpdate({ updateId: 2, fromId: 222 }));
    expect(event).toMatchObject({
      buyer: { id: '222' },
      thread: { id: '-4012345678', kind: 'group', title: 'Neighbours' },
      replyContext: { chatId: '-4012345678' },
    });
  });

  it('replies into the forum topic with message_thread_id, as grammY ctx.reply does', async () => {
    const [event] = tgEvents(telegramForumTopicUpdate({ updateId: 3, topicId: 77 }));
    expect(event?.thread).toEqual({
      id: `${TELEGRAM_FORUM_CHAT_ID}/77`,
      kind: 'topic',
      title: 'Shop club',
    });
    const scope = nock('https://api.telegram.org')
      .post('/bot123456:ABC-DEF/sendMessage', {
        chat_id: String(TELEGRAM_FORUM_CHAT_ID),
        text: 'Yes, we have it.',
        message_thread_id: 77,
      })
      .reply(200, { ok: true, result: { message_id: 900 } });
    await telegramAdapter.send!(replyFor(event!), tg, testPlatformHttp());
    expect(scope.isDone()).toBe(true);
  });

  it('receives a Business message and answers through its business_connection_id', async () => {
    const [event] = tgEvents(telegramBusinessMessageUpdate({ updateId: 4 }));
    expect(event).toMatchObject({
      from: 'buyer',
      buyer: { id: '111111111', name: 'Ann' },
      thread: { id: `${TELEGRAM_BUSINESS_CONNECTION}/111111111`, kind: 'direct' },
      replyContext: { chatId: '111111111', businessConnectionId: TELEGRAM_BUSINESS_CONNECTION },
    });
    // Apart from the same person's chat with the bot itself.
    expect(conversationKey(event!.buyer.id, event!.thread)).not.toBe('111111111');
    const scope = nock('https://api.telegram.org')
      .post('/bot123456:ABC-DEF/sendMessage', {
        chat_id: '111111111',
        text: 'Yes, we have it.',
        business_connection_id: TELEGRAM_BUSINESS_CONNECTION,
      })
      .reply(200, { ok: true, result: { message_id: 901 } });
    await telegramAdapter.send!(replyFor(event!), tg, testPlatformHttp());
    expect(scope.isDone()).toBe(true);
  });

  it("takes the owner's own Business replies as agent messages, and a bot's as nothing", () => {
    const [owner] = tgEvents(telegramBusinessMessageUpdate({ updateId: 5, fromId: 999 }));
    expect(owner).toMatchObject({ from: 'agent', buyer: { id: '111111111' } });
    expect(
      tgEvents(
        telegramBusinessMessageUpdate({ updateId: 6, fromId: 999, senderBusinessBot: true }),
      ),
    ).toEqual([]);
  });
});

describe('reactions, read receipts and typing never count', () => {
  it('WhatsApp: a reaction and its removal yield no event', () => {
    expect(waEvents(metaReactionMessage({ id: 'wamid.r1', emoji: '\u{1F600}' }))).toEqual([]);
    expect(waEvents(metaReactionMessage({ id: 'wamid.r2', emoji: '' }))).toEqual([]);
  });

  it('Messenger: a reaction, its removal and a read receipt yield no event', () => {
    const request = signedMessengerDelivery({
      secret: messenger.appSecret,
      messaging: [messengerReaction('react'), messengerReaction('unreact'), messengerRead()],
    });
    expect(messengerAdapter.parse(asInbound(request), messenger).events).toEqual([]);
  });

  it('Telegram: a message_reaction update yields no event', () => {
    expect(tgEvents(telegramReactionUpdate(7))).toEqual([]);
  });
});
