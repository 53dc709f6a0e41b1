import { randomUUID } from 'node:crypto';
import { conversationId } from '../../src/conversations/conversation-store';
import { lineSignature } from '../../src/platforms/line/signature';
import { buyerMessage, eventually, type Harness } from './harness';

const SECOND = 1000;

/**
 * A realistic morning for the console screenshot: one shared-seat agent on
 * three shops (zh-Hans on the web, zh-Hant on LINE, en on the web), a
 * colleague on the busiest shop, buyers waiting for different lengths of
 * time, and one conversation already answered. The shops and agents come
 * first; `play()` sends the messages, so a console opened in between sees
 * them (and the slow-reply alerts) arrive live.
 */
export async function seedConsoleDemo(
  h: Harness,
  replyUrl: string,
): Promise<{ token: string; featured: string; play(): Promise<void> }> {
  const now = Date.now();
  const home = await h.createGenericShop({
    name: '云杉家居旗舰店',
    credentials: { replyUrl },
    catalog: {
      products: [
        {
          id: 'sofa-nordic',
          name: '北欧布艺沙发',
          options: { colour: ['浅灰', '燕麦白'], size: ['双人位', '三人位'] },
          deliveryDays: ['周二', '周三'],
        },
      ],
    },
  });
  const tea = await h.createGenericShop({
    name: 'Harbour Tea Co.',
    credentials: { replyUrl },
    timezone: 'Asia/Hong_Kong',
    settings: { slowReplySeconds: 60 },
    catalog: {
      products: [{ id: 'oolong-tin', name: 'Oolong tin', options: { size: ['100g', '250g'] } }],
    },
  });
  const channelSecret = 'demo-line-channel-secret';
  const kids = (
    await h.api('/v1/shops', {
      body: {
        name: '小鹿童裝',
        platform: 'line',
        timezone: 'Asia/Taipei',
        credentials: { channelSecret, channelAccessToken: 'demo-line-access-token' },
        catalog: {
          products: [
            {
              id: 'jacket',
              name: '兒童鋪棉外套',
              options: { size: ['100', '110', '120'], colour: ['奶茶色', '霧藍'] },
            },
          ],
        },
      },
    })
  ).body as { id: string };

  const agent = (
    await h.api('/v1/agents', { body: { name: '林晓', shopIds: [home.id, tea.id, kids.id] } })
  ).body as { id: string; token: string };

  const generic = async (
    shop: { id: string; webhookSecret: string },
    buyerId: string,
    name: string,
    text: string,
    agoSeconds: number,
    from: 'buyer' | 'agent' = 'buyer',
  ) => {
    const extra =
      from === 'agent'
        ? { from, agentName: '林晓', buyer: { id: buyerId, name } }
        : { buyer: { id: buyerId, name } };
    await h.sendGeneric(shop, buyerMessage(buyerId, text, now - agoSeconds * SECOND, extra));
  };
  const line = async (userId: string, text: string, agoSeconds: number) => {
    const body = JSON.stringify({
      destination: 'U0123456789abcdef0123456789abcdef',
      events: [
        {
          type: 'message',
          mode: 'active',
          timestamp: now - agoSeconds * SECOND,
          source: { type: 'user', userId },
          webhookEventId: `01H${randomUUID().replace(/-/g, '').slice(0, 23).toUpperCase()}`,
          deliveryContext: { isRedelivery: false },
          message: { id: String(Math.floor(Math.random() * 1e15)), type: 'text', text },
        },
      ],
    });
    await fetch(`${h.url}/webhooks/line/${kids.id}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-line-signature': lineSignature(body, channelSecret),
      },
      body,
    });
  };
  const stored = (shopId: string, buyerId: string, count: number) =>
    eventually(
      async () => (await h.container.conversations.history(shopId, buyerId, 10)).length >= count,
    );

  const play = async () => {
    // One already answered from the console with a suggestion, within the 3 minutes.
    const tom = conversationId(tea.id, 'tom-h');
    await generic(
      tea,
      'tom-h',
      'Tom Harris',
      'Do you have the oolong in 250g? I would like two tins.',
      40,
    );
    const suggestion = await eventually(
      async () =>
        (await h.api(`/v1/agent/conversations/${tom}`, { token: agent.token })).body
          .suggestions?.[0] as { id: string; text: string } | undefined,
    );
    const answered = await h.api(`/v1/agent/conversations/${tom}/replies`, {
      token: agent.token,
      body: { text: suggestion.text, suggestionId: suggestion.id },
    });
    await eventually(
      async () =>
        (
          await h.api(`/v1/agent/conversations/${tom}/replies/${answered.body.replyId}`, {
            token: agent.token,
          })
        ).body.status === 'sent',
    );

    // The featured conversation: a greeting answered in the platform's own client, then the real question.
    await generic(home, 'wang-l', '王丽', '您好，在吗？', 150);
    await stored(home.id, 'wang-l', 1);
    await generic(home, 'wang-l', '王丽', '您好，在的～请问有什么可以帮您？', 140, 'agent');
    await stored(home.id, 'wang-l', 2);
    await generic(
      home,
      'wang-l',
      '王丽',
      '这款北欧布艺沙发有浅灰色吗？三人位的，周末前能送到吗？',
      75,
    );

    await generic(home, 'li-m', '李敏', '收到的沙发腿有一道划痕，这个怎么处理？', 130);
    await stored(home.id, 'li-m', 1);
    // A colleague joins the busy shop: the next buyers go to whoever has fewer open conversations.
    const amy = await h.api('/v1/agents', { body: { name: 'Amy Chen', shopIds: [home.id] } });
    await h.setPresence(amy.body.token, 'online');
    await generic(home, 'chen-j', '陈杰', '燕麦白和浅灰哪个更耐脏？家里有猫', 25);
    await generic(home, 'zhou-y', '周悦', '请问双人位尺寸是多少？', 12);
    await line('U4af4980629a0b1c2d3e4f5a6b7c8d9e0', '請問這件鋪棉外套有110的尺寸嗎？', 55);
    await line('U7bd2210e9f3a4c5d6e7f8a9b0c1d2e3f', '我家小孩4歲，穿哪個尺寸比較好？', 18);
    await generic(
      tea,
      'emma-c',
      'Emma Clarke',
      'Hi, is the oolong gift box still available? I need it by Friday.',
      95,
    );

    await eventually(async () => {
      const list = (await h.api('/v1/agent/conversations', { token: agent.token })).body
        .conversations as Array<{ waiting: boolean; suggestions: unknown[] }>;
      return (
        list.length === 8 && list.filter((c) => c.waiting).every((c) => c.suggestions.length > 0)
      );
    }, 15_000);
  };
  return { token: agent.token, featured: conversationId(home.id, 'wang-l'), play };
}
