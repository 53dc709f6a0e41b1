import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { jobIds } from '../../src/pipeline/queues';
import { ManualClock } from '../../src/shared/clock';
import { dayOf } from '../../src/shared/shop-calendar';
import { linePostbackEvent, signedLineDelivery } from '../fixtures/platforms/line';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';
import { openEventStream } from '../support/sse';

const HOUR = 3_600_000;
const CLOSE_AFTER = HOUR;
const clock = new ManualClock(Date.now());
let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    clock,
    // Agents stay online across the clock's jumps (under 2 h): only the close may free them.
    env: { UNANSWERED_CLOSE_AFTER_HOURS: '1', AGENT_OFFLINE_AFTER_SECONDS: '86400' },
  });
});
afterAll(() => h.close());

/** Whether the close of a wait is armed (a timer, not yet queued as a job). */
async function armed(jobId: string): Promise<boolean> {
  return (await h.container.timers.pending('idle')).some((timer) => timer.jobId === jobId);
}

/** The close of a wait, once armed; fired now (the fake clock says it is due) and run. */
async function runClose(
  id: string,
  waitingSince: number,
  dueAt: number,
  opened = false,
): Promise<void> {
  const jobId = jobIds.unansweredClose(id, waitingSince, dueAt, opened);
  await eventually(() => armed(jobId));
  expect(await h.container.timers.fireNow('idle', jobId)).toBe(true);
  // The workers' sweep queues it as a job; a completed close leaves no trace
  // (removeOnComplete), a failed one stays.
  await eventually(async () => !(await armed(jobId)));
  const state = await eventually(async () => {
    const job = await h.container.queues.idle.getJob(jobId);
    const now = job ? await job.getState() : 'unknown';
    return now === 'completed' || now === 'unknown' || now === 'failed' ? now : null;
  });
  expect(state).not.toBe('failed');
}

describe('unanswered close', () => {
  it('closes a conversation nobody answered the close time after the buyer last wrote, releases its agent and keeps it a miss', async () => {
    const shop = await h.createGenericShop();
    const agent = (await h.api('/v1/agents', { body: { name: 'Ana', shopIds: [shop.id] } })).body;
    await h.setPresence(agent.token, 'online');
    const id = conversationId(shop.id, 'silent');
    const start = clock.now();
    await h.sendGeneric(shop, buyerMessage('silent', 'is it in stock?', start));
    await eventually(async () => (await h.container.assignment.ownerOf(id)) === agent.id);
    const stream = await openEventStream(`${h.url}/v1/agent/events`, agent.token);

    // 24 minutes later the buyer writes again: the close moves to an hour after that.
    clock.advance(0.4 * CLOSE_AFTER);
    await h.sendGeneric(shop, buyerMessage('silent', 'hello?', clock.now()));
    await eventually(
      async () => (await h.container.conversations.history(shop.id, 'silent')).length === 2,
    );
    clock.set(start + CLOSE_AFTER);
    await runClose(id, start, start + CLOSE_AFTER);
    expect((await h.container.conversations.state(shop.id, 'silent')).waitingSince).toBe(start);
    expect(await h.container.conversations.activeBuyers(shop.id)).toContain('silent');
    expect(await h.container.assignment.ownerOf(id)).toBe(agent.id);

    const day = dayOf(start, 'Asia/Shanghai');
    const meteredBefore = await h.container.meter.consultationsOn(shop.id, day);
    clock.set(start + 1.4 * CLOSE_AFTER);
    await runClose(id, start, start + 1.4 * CLOSE_AFTER);
    const closed = await stream.waitFor(
      (e) => e.event === 'conversation' && e.data.change === 'closed',
      8000,
    );
    expect(closed.data).toMatchObject({ conversationId: id, reason: 'unanswered_timeout' });
    await stream.close();

    const state = await h.container.conversations.state(shop.id, 'silent');
    expect(state.waitingSince).toBeUndefined();
    expect(state.closedAt).toBe(start + 1.4 * CLOSE_AFTER);
    expect(await h.container.conversations.activeBuyers(shop.id)).not.toContain('silent');
    expect(await h.container.assignment.ownerOf(id)).toBeNull();
    expect(await h.container.assignment.openCount(agent.id)).toBe(0);
    expect(
      (await h.api('/v1/agent/conversations', { token: agent.token })).body.conversations,
    ).toEqual([]);
    // Metering untouched: still one consultation, never answered (a miss, not a response).
    const meteredAfter = await h.container.meter.consultationsOn(shop.id, day);
    expect(meteredAfter).toEqual(meteredBefore);
    expect(meteredAfter).toEqual([
      expect.objectContaining({ buyerId: 'silent', firstAt: start, firstResponseMs: null }),
    ]);

    // The buyer comes back: a new wait, offered again, with a close of its own.
    const back = clock.now();
    await h.sendGeneric(shop, buyerMessage('silent', 'anyone?', back));
    await eventually(async () => (await h.container.assignment.ownerOf(id)) === agent.id);
    expect((await h.container.conversations.state(shop.id, 'silent')).waitingSince).toBe(back);
    await eventually(() => armed(jobIds.unansweredClose(id, back, back + CLOSE_AFTER)));
  });

  it('leaves an answered wait alone, and a wait the agent closed by hand', async () => {
    const shop = await h.createGenericShop();
    const agent = (await h.api('/v1/agents', { body: { name: 'Bo', shopIds: [shop.id] } })).body;
    await h.setPresence(agent.token, 'online');
    const start = clock.now();
    for (const buyer of ['answered', 'handClosed']) {
      await h.sendGeneric(shop, buyerMessage(buyer, 'hi', start));
      await eventually(
        async () =>
          (await h.container.assignment.ownerOf(conversationId(shop.id, buyer))) === agent.id,
      );
    }
    // An agent's message on the platform answers the buyer (a reply via Seatmate does the same).
    await h.sendGeneric(shop, {
      data: {
        messageId: 'agent-1',
        buyer: { id: 'answered' },
        from: 'agent',
        text: 'hello',
        sentAt: new Date(start + 60_000).toISOString(),
      },
    });
    await eventually(
      async () =>
        (await h.container.conversations.state(shop.id, 'answered')).waitingSince === undefined,
    );
    const closed = await h.api(
      `/v1/agent/conversations/${conversationId(shop.id, 'handClosed')}/close`,
      { token: agent.token, method: 'POST' },
    );
    expect(closed.status).toBe(200);

    clock.set(start + CLOSE_AFTER);
    await runClose(conversationId(shop.id, 'answered'), start, start + CLOSE_AFTER);
    await runClose(conversationId(shop.id, 'handClosed'), start, start + CLOSE_AFTER);
    expect(await h.container.conversations.activeBuyers(shop.id)).toEqual(['answered']);
    expect((await h.container.conversations.state(shop.id, 'answered')).closedAt).toBeUndefined();
  });

  it('closes a request for service (a LINE postback) nobody answered, but not one an agent answered', async () => {
    const secret = 'line-secret-unanswered';
    const shop = (
      await h.api('/v1/shops', {
        body: {
          name: 'line',
          platform: 'line',
          timezone: 'UTC',
          credentials: { channelSecret: secret, channelAccessToken: 'line-token' },
        },
      })
    ).body as { id: string };
    const agent = (await h.api('/v1/agents', { body: { name: 'Cy', shopIds: [shop.id] } })).body;
    await h.setPresence(agent.token, 'online');
    const userId = 'U0000000000000000000000000000uc1';
    const id = conversationId(shop.id, userId);
    const at = clock.now();
    const postback = {
      ...linePostbackEvent({ webhookEventId: 'PB-uc', userId, replyToken: 'rt-uc' }),
      timestamp: at,
    };
    const request = signedLineDelivery({ secret, events: [postback] });
    const res = await fetch(`${h.url}/webhooks/line/${shop.id}`, {
      method: 'POST',
      headers: request.headers,
      body: new Uint8Array(request.rawBody),
    });
    expect(res.status).toBe(200);
    await eventually(async () => (await h.container.assignment.ownerOf(id)) === agent.id);
    expect(await h.container.conversations.activeBuyers(shop.id)).toContain(userId);

    clock.set(at + CLOSE_AFTER);
    await runClose(id, at, at + CLOSE_AFTER, true);
    expect(await h.container.conversations.activeBuyers(shop.id)).not.toContain(userId);
    expect(await h.container.assignment.ownerOf(id)).toBeNull();

    // Answered after the click: the same close leaves it to the idle close.
    const other = await h.createGenericShop();
    const opened = clock.now();
    await h.container.conversations.append(other.id, 'clicked', {
      id: 'open/1',
      from: 'buyer',
      kind: 'open',
      text: '[menu] contact us',
      at: opened,
    });
    await h.container.conversations.append(other.id, 'clicked', {
      id: 'r1',
      from: 'agent',
      text: 'hello',
      at: opened + 1000,
    });
    expect(
      await h.container.conversations.closeIfUnanswered(
        other.id,
        'clicked',
        opened,
        CLOSE_AFTER,
        opened + 2 * CLOSE_AFTER,
        true,
      ),
    ).toEqual({ closed: false });
    expect(await h.container.conversations.activeBuyers(other.id)).toEqual(['clicked']);
  });
});
