import { PassThrough } from 'node:stream';
import Router from '@koa/router';
import { z } from 'zod';
import type { AgentEvent } from '../../agents/agent-events';
import { validate } from '../../platforms/json-body';
import { LONGEST_REPLY } from '../../platforms/reply-limits';
import { notFound } from '../../shared/errors';
import { dayOf, isDay } from '../../shared/shop-calendar';
import { requireAgent, requirePermission } from '../auth';
import { readJson } from '../json-request';
import type { HttpServices } from '../services';

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

export const statsQuery = z.object({
  date: z.string().refine(isDay, { message: 'must be YYYY-MM-DD' }).optional(),
});

function sseFrame(event: AgentEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/** The shared-seat agent's API: conversations across their shops, replies, live events, figures. */
export function agentRoutes(services: HttpServices): Router {
  const router = new Router();
  const { workspace, events, responseClock, clock, agents } = services;

  router.get('/v1/agent/me', (ctx) => {
    const agent = requireAgent(ctx);
    ctx.body = { id: agent.agentId, name: agent.name, shopIds: agent.shopIds };
  });

  router.get('/v1/agent/conversations', async (ctx) => {
    const agent = requireAgent(ctx);
    ctx.body = { conversations: await workspace.conversations(agent) };
  });

  router.get('/v1/agent/conversations/:conversationId', async (ctx) => {
    ctx.body = await workspace.conversation(requireAgent(ctx), ctx.params.conversationId!);
  });

  router.post('/v1/agent/conversations/:conversationId/claim', async (ctx) => {
    await workspace.claim(requireAgent(ctx), ctx.params.conversationId!);
    ctx.body = { conversationId: ctx.params.conversationId, status: 'claimed' };
  });

  router.post('/v1/agent/conversations/:conversationId/close', async (ctx) => {
    await workspace.close(requireAgent(ctx), ctx.params.conversationId!);
    ctx.body = { conversationId: ctx.params.conversationId, status: 'closed' };
  });

  router.post('/v1/agent/conversations/:conversationId/replies', async (ctx) => {
    const agent = requireAgent(ctx);
    const input = await readJson(ctx, replySchema);
    const reply = await workspace.reply(agent, ctx.params.conversationId!, input);
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

  router.get('/v1/agent/stats', async (ctx) => {
    const agent = requireAgent(ctx);
    const { date } = validate(ctx.query, statsQuery);
    const shop = agent.shopIds[0] ? await services.shops.get(agent.shopIds[0]) : null;
    ctx.body = await responseClock.figures(
      agent.agentId,
      date ?? dayOf(clock.now(), shop?.timezone ?? 'Asia/Shanghai'),
    );
  });

  router.get('/v1/agents/:agentId/stats', async (ctx) => {
    requirePermission(ctx, 'read');
    const { date } = validate(ctx.query, statsQuery);
    if (!(await agents.get(ctx.params.agentId!))) throw notFound('Agent');
    ctx.body = await responseClock.figures(
      ctx.params.agentId!,
      date ?? dayOf(clock.now(), 'Asia/Shanghai'),
    );
  });

  /**
   * Server-Sent Events from the agent's own Redis stream: resumable with
   * Last-Event-ID (header, or `lastEventId` query for clients that cannot
   * set headers), heartbeats while idle, one blocking connection per client.
   */
  router.get('/v1/agent/events', async (ctx) => {
    const agent = requireAgent(ctx);
    const resumeFrom =
      ctx.get('last-event-id') ||
      (typeof ctx.query.lastEventId === 'string' ? ctx.query.lastEventId : '');
    const validResume = /^\d+-\d+$/.test(resumeFrom) ? resumeFrom : '';
    let cursor = validResume || (await events.latestId(agent.agentId));

    const stream = new PassThrough();
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

    const connection = services.openBlockingConnection();
    let open = true;
    let forget = () => {};
    const stop = () => {
      if (!open) return;
      open = false;
      forget();
      connection.disconnect();
      stream.end();
    };
    forget = services.onShutdown(stop);
    ctx.req.on('close', stop);

    stream.write(`retry: 2000\n: connected as ${agent.agentId}\n\n`);
    void (async () => {
      try {
        if (validResume) {
          if (await events.gapAfter(agent.agentId, validResume))
            stream.write(
              'event: reset\ndata: {"reason":"events since Last-Event-ID were trimmed; reload"}\n\n',
            );
          for (const event of await events.since(agent.agentId, validResume)) {
            stream.write(sseFrame(event));
            cursor = event.id;
          }
        }
        while (open) {
          const batch = await events.waitAfter(
            connection,
            agent.agentId,
            cursor,
            services.config.SSE_HEARTBEAT_SECONDS * 1000,
          );
          if (!open) break;
          if (batch.length === 0)
            stream.write(`: heartbeat ${new Date(clock.now()).toISOString()}\n\n`);
          for (const event of batch) {
            stream.write(sseFrame(event));
            cursor = event.id;
          }
        }
      } catch (error) {
        if (open)
          services.logger.warn(
            { err: (error as Error).message, agentId: agent.agentId },
            'event stream ended',
          );
        stop();
      }
    })();
  });

  return router;
}
