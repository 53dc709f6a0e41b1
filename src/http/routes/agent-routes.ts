import { PassThrough } from 'node:stream';
import Router from '@koa/router';
import { z } from 'zod';
import { MEDIA_CACHE_SECONDS } from '../../agents/media-proxy';
import { PRESENCE_STATUSES } from '../../agents/presence';
import { validate } from '../../platforms/json-body';
import { LONGEST_REPLY } from '../../platforms/reply-limits';
import { badRequest, notFound } from '../../shared/errors';
import { isDay } from '../../shared/shop-calendar';
import { requireAgent, requirePermission } from '../auth';
import { readJson } from '../json-request';
import type { HttpServices } from '../services';

/**
 * A reply's Idempotency-Key: any printable ASCII up to 255 characters (a UUID
 * is typical). Absent or empty: no key.
 */
function idempotencyKeyOf(header: string): string | undefined {
  if (header === '') return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(header))
    throw badRequest(
      'invalid_idempotency_key',
      'Idempotency-Key must be 1 to 255 printable ASCII characters without spaces, such as a UUID.',
      { field: 'Idempotency-Key' },
    );
  return header;
}

/**
 * A close may say which buyer message the agent saw last (ISO time): a newer one keeps it
 * open. Other fields are ignored, as they were before the close read a body.
 */
export const closeSchema = z.object({
  seenBuyerAt: z.iso
    .datetime({ offset: true, message: 'must be an ISO-8601 time with an offset' })
    .optional(),
});

export const replySchema = z
  .object({
    text: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      // The platform's own limit is checked with the conversation (see reply-limits.ts).
      .max(LONGEST_REPLY, `must be at most ${LONGEST_REPLY} characters (one chat message)`),
    suggestionId: z.string().min(1).max(100).optional(),
  })
  .strict();

export const presenceSchema = z.object({ status: z.enum(PRESENCE_STATUSES) }).strict();

export const transferSchema = z
  .object({
    toAgentId: z.string().min(1).max(100),
    note: z.string().trim().max(500, 'must be at most 500 characters').optional(),
  })
  .strict();

export const colleaguesQuery = z.object({ shopId: z.string().min(1).max(100) });

export const statsQuery = z.object({
  date: z.string().refine(isDay, { message: 'must be YYYY-MM-DD' }).optional(),
});

/** The shared-seat agent's API: conversations across their shops, replies, live events, figures. */
export function agentRoutes(services: HttpServices): Router {
  const router = new Router();
  const { workspace, streams, responseClock, clock, agents } = services;

  router.get('/v1/agent/me', async (ctx) => {
    const agent = requireAgent(ctx);
    ctx.body = {
      id: agent.agentId,
      name: agent.name,
      shopIds: agent.shopIds,
      status: await services.presence.statusOf(agent.agentId),
    };
  });

  router.put('/v1/agent/presence', async (ctx) => {
    const agent = requireAgent(ctx);
    const { status } = await readJson(ctx, presenceSchema);
    ctx.body = { id: agent.agentId, status: await workspace.setPresence(agent, status) };
  });

  router.get('/v1/agent/colleagues', async (ctx) => {
    const agent = requireAgent(ctx);
    const { shopId } = validate(ctx.query, colleaguesQuery);
    ctx.body = { shopId, colleagues: await workspace.colleagues(agent, shopId) };
  });

  router.get('/v1/agent/conversations/:conversationId/context', async (ctx) => {
    ctx.body = await workspace.context(requireAgent(ctx), ctx.params.conversationId!);
  });

  router.post('/v1/agent/conversations/:conversationId/transfer', async (ctx) => {
    const agent = requireAgent(ctx);
    const input = await readJson(ctx, transferSchema);
    ctx.body = {
      ...(await workspace.transfer(agent, ctx.params.conversationId!, input)),
      status: 'transferred',
    };
  });

  router.get('/v1/agent/conversations', async (ctx) => {
    const agent = requireAgent(ctx);
    ctx.body = { conversations: await workspace.conversations(agent) };
  });

  router.get('/v1/agent/conversations/:conversationId', async (ctx) => {
    ctx.body = await workspace.conversation(requireAgent(ctx), ctx.params.conversationId!);
  });

  /**
   * A buyer's image, voice, video or file, same-origin so the console never
   * shows a platform URL or token. The answer can never run as a page: the
   * checked type, nosniff, a sandboxing CSP, and a download for anything that
   * is not a picture, sound or video.
   */
  router.get('/v1/agent/conversations/:conversationId/media/:messageId', async (ctx) => {
    const media = await services.mediaProxy.fetch(
      requireAgent(ctx),
      ctx.params.conversationId!,
      ctx.params.messageId!,
    );
    ctx.set({
      'Cache-Control': `private, max-age=${MEDIA_CACHE_SECONDS}`,
      ETag: media.etag,
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "sandbox; default-src 'none'",
      'Content-Disposition': media.disposition,
      'Cross-Origin-Resource-Policy': 'same-origin',
    });
    ctx.vary('Authorization');
    if (ctx.get('if-none-match') === media.etag) {
      ctx.status = 304;
      return;
    }
    ctx.status = 200;
    ctx.body = media.body;
    // Set after the body: Koa would otherwise keep its own guess for a Buffer.
    ctx.set('Content-Type', media.contentType);
  });

  router.post('/v1/agent/conversations/:conversationId/claim', async (ctx) => {
    await workspace.claim(requireAgent(ctx), ctx.params.conversationId!);
    ctx.body = { conversationId: ctx.params.conversationId, status: 'claimed' };
  });

  router.post('/v1/agent/conversations/:conversationId/close', async (ctx) => {
    const agent = requireAgent(ctx);
    const { seenBuyerAt } = await readJson(ctx, closeSchema);
    await workspace.close(
      agent,
      ctx.params.conversationId!,
      seenBuyerAt === undefined ? undefined : Date.parse(seenBuyerAt),
    );
    ctx.body = { conversationId: ctx.params.conversationId, status: 'closed' };
  });

  router.post('/v1/agent/conversations/:conversationId/replies', async (ctx) => {
    const agent = requireAgent(ctx);
    const input = await readJson(ctx, replySchema);
    const reply = await workspace.reply(
      agent,
      ctx.params.conversationId!,
      input,
      idempotencyKeyOf(ctx.get('idempotency-key')),
    );
    if (reply.replayed) ctx.set('Idempotent-Replayed', 'true');
    ctx.status = 202;
    ctx.body = { replyId: reply.replyId, status: reply.status, origin: reply.origin };
  });

  router.get('/v1/agent/conversations/:conversationId/replies/:replyId', async (ctx) => {
    const reply = await workspace.replyStatus(
      requireAgent(ctx),
      ctx.params.conversationId!,
      ctx.params.replyId!,
    );
    ctx.body = {
      replyId: reply.replyId,
      conversationId: reply.conversationId,
      status: reply.status,
      origin: reply.origin,
      text: reply.text,
      error: reply.error ?? null,
      attempts: reply.attempts,
      createdAt: new Date(reply.createdAt).toISOString(),
      sentAt: reply.sentAt ? new Date(reply.sentAt).toISOString() : null,
      failedAt: reply.failedAt ? new Date(reply.failedAt).toISOString() : null,
    };
  });

  /** The agent's shops with their time zones: each shop's replies count on its own day. */
  const shopZones = async (shopIds: string[]) =>
    (await Promise.all(shopIds.map((id) => services.shops.get(id))))
      .filter((shop) => shop !== null)
      .map((shop) => ({ id: shop.id, timezone: shop.timezone }));

  router.get('/v1/agent/stats', async (ctx) => {
    const agent = requireAgent(ctx);
    const { date } = validate(ctx.query, statsQuery);
    ctx.body = await responseClock.figures(
      agent.agentId,
      await shopZones(agent.shopIds),
      date ? { date } : { now: clock.now() },
    );
  });

  router.get('/v1/agents/:agentId/stats', async (ctx) => {
    requirePermission(ctx, 'read');
    const { date } = validate(ctx.query, statsQuery);
    const target = await agents.get(ctx.params.agentId!);
    if (!target) throw notFound('Agent');
    ctx.body = await responseClock.figures(
      target.id,
      await shopZones(target.shopIds),
      date ? { date } : { now: clock.now() },
    );
  });

  /**
   * Server-Sent Events: the agent's own stream, resumable with Last-Event-ID
   * (header, or `lastEventId` query for clients that cannot set headers).
   * Admission, replay, the shared Redis reader and heartbeats live in
   * StreamSessions; this route only frames the HTTP response.
   */
  router.get('/v1/agent/events', async (ctx) => {
    const agent = requireAgent(ctx);
    const resumeFrom =
      ctx.get('last-event-id') ||
      (typeof ctx.query.lastEventId === 'string' ? ctx.query.lastEventId : '');

    const stream = new PassThrough();
    const stop = await streams.open(agent, resumeFrom, {
      write: (chunk) => stream.write(chunk),
      end: () => stream.end(),
      // What waits in the stream and in the socket's own buffer behind it.
      backlog: () => stream.writableLength + (ctx.req.socket.writableLength ?? 0),
      abort: () => ctx.req.socket.destroy(),
    });
    ctx.req.on('close', stop);
    // The client may have gone while the stream was being opened.
    if (ctx.req.socket.destroyed) stop();
    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    ctx.set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    ctx.status = 200;
    ctx.body = stream;
  });

  return router;
}
