import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { z } from 'zod';
import { parseJsonBody } from '../../platforms/json-body';
import { AppError } from '../../shared/errors';
import {
  WIDGET_LIMITS,
  widgetContextSchema,
  widgetMessageSchema,
  widgetSessionSchema,
} from '../../widget/widget-service';
import { readBody } from '../raw-body';
import type { HttpServices } from '../services';

const WIDGET_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../web/widget/widget.js',
);
/** A widget request body is one chat message or a page context: a few KB at most. */
const WIDGET_BODY_LIMIT = 16 * 1024;
const HEARTBEAT_MS = 20_000;

/** The widget's operations for /openapi.json, beside their handlers. */
export const widgetOperations = [
  { method: 'get', path: '/widget.js', summary: 'The storefront chat widget script (public)' },
  {
    method: 'post',
    path: '/v1/widget/{widgetKey}/session',
    summary: "Start or renew a buyer's widget session (allowed origins only)",
    body: widgetSessionSchema,
  },
  {
    method: 'get',
    path: '/v1/widget/{widgetKey}/messages',
    summary: "The buyer's conversation so far (widget session token)",
  },
  {
    method: 'post',
    path: '/v1/widget/{widgetKey}/messages',
    summary: 'A buyer message from the widget, queued like any platform message',
    body: widgetMessageSchema,
  },
  {
    method: 'post',
    path: '/v1/widget/{widgetKey}/context',
    summary: 'The product and page the buyer is looking at, shown to the agent',
    body: widgetContextSchema,
  },
  {
    method: 'get',
    path: '/v1/widget/{widgetKey}/events',
    summary: "Agents' replies to this buyer, live (Server-Sent Events)",
  },
] as const;

/**
 * The storefront widget: its script, and the buyer-facing API it calls from the
 * shop's own pages (cross-origin). Every call names the shop by its public
 * widget key; only the shop's allowed origins get a CORS answer, and every call
 * but the session itself carries the session token.
 */
export function widgetRoutes(services: HttpServices): Router {
  const router = new Router();
  const { widget, widgetMailbox } = services;

  const script = fs.existsSync(WIDGET_FILE) ? fs.readFileSync(WIDGET_FILE) : Buffer.alloc(0);
  const etag = `"${createHash('sha256').update(script).digest('base64url').slice(0, 20)}"`;
  router.get('/widget.js', (ctx) => {
    ctx.set({
      'Cache-Control': 'public, max-age=300',
      ETag: etag,
      'X-Content-Type-Options': 'nosniff',
      // Shops load it from their own pages: it must be readable cross-origin.
      'Cross-Origin-Resource-Policy': 'cross-origin',
    });
    if (ctx.get('if-none-match') === etag) {
      ctx.status = 304;
      return;
    }
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.body = script;
  });

  /** The shop behind the key, the caller's origin (allowed, with CORS headers), and the IP budget. */
  async function enter(ctx: Context) {
    const shop = await widget.shopOf(ctx.params.key!);
    const origin = ctx.get('origin') || undefined;
    ctx.vary('Origin');
    if (widget.allows(shop, origin)) {
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Access-Control-Expose-Headers', 'Retry-After');
    }
    const allowed = widget.requireOrigin(shop, origin);
    await widget.countRequest(ctx.ip);
    return { shop, origin: allowed };
  }

  async function session(ctx: Context) {
    const { shop, origin } = await enter(ctx);
    return widget.authenticate(shop, origin, ctx.get('authorization'));
  }

  router.options('/v1/widget/:key/:action', async (ctx) => {
    const shop = await widget.shopOf(ctx.params.key!);
    const origin = ctx.get('origin') || undefined;
    ctx.vary('Origin');
    widget.requireOrigin(shop, origin);
    ctx.set({
      'Access-Control-Allow-Origin': origin!,
      'Access-Control-Allow-Methods': 'GET, POST',
      'Access-Control-Allow-Headers': 'authorization, content-type, last-event-id',
      'Access-Control-Max-Age': '600',
    });
    ctx.status = 204;
  });

  router.post('/v1/widget/:key/session', async (ctx) => {
    const { shop, origin } = await enter(ctx);
    const input = await readSmallJson(ctx, widgetSessionSchema);
    ctx.status = 201;
    ctx.body = await widget.startSession(shop, origin, ctx.ip, input.token);
  });

  router.get('/v1/widget/:key/messages', async (ctx) => {
    ctx.body = { messages: await widget.history(await session(ctx)) };
  });

  router.post('/v1/widget/:key/messages', async (ctx) => {
    const current = await session(ctx);
    const input = await readSmallJson(ctx, widgetMessageSchema);
    ctx.status = 202;
    ctx.body = await widget.send(current, input);
  });

  router.post('/v1/widget/:key/context', async (ctx) => {
    const current = await session(ctx);
    const input = await readSmallJson(ctx, widgetContextSchema);
    await widget.setContext(current, input);
    ctx.status = 204;
  });

  /** Agents' replies, live, as Server-Sent Events; the widget reads history again after a reconnect. */
  router.get('/v1/widget/:key/events', async (ctx) => {
    const current = await session(ctx);
    const open = widgetMailbox.openCount(current.shopId, current.buyerId);
    if (
      open.buyer >= WIDGET_LIMITS.streamsPerBuyer ||
      open.total >= WIDGET_LIMITS.streamsPerProcess
    )
      throw new AppError(
        429,
        'too_many_streams',
        'This chat is already open in too many tabs; close one and retry.',
        { headers: { 'Retry-After': '10' } },
      );
    const stream = new PassThrough();
    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    ctx.set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
    });
    ctx.status = 200;
    ctx.body = stream;

    let stopped = false;
    // The shop may remove the origin while the stream is open, and the token expires: each
    // reply and heartbeat re-checks the session first (through the shop cache), one after
    // another so replies keep their order, and the stream ends once it no longer holds.
    let checks = Promise.resolve();
    const whileHeld = (frame: string) => {
      checks = checks.then(async () => {
        if (stopped) return;
        const holds = await widget.stillHolds(ctx.params.key!, current);
        if (stopped) return;
        if (holds) stream.write(frame);
        else stop();
      });
    };
    const heartbeat = setInterval(() => whileHeld(': keep-alive\n\n'), HEARTBEAT_MS);
    const unlisten = widgetMailbox.listen(current.shopId, current.buyerId, (message) => {
      whileHeld(`id: ${message.id}\nevent: message\ndata: ${JSON.stringify(message)}\n\n`);
    });
    let forget = () => {};
    const stop = () => {
      if (stopped) return;
      stopped = true;
      clearInterval(heartbeat);
      unlisten();
      forget();
      stream.end();
    };
    forget = services.onShutdown(stop);
    ctx.req.on('close', stop);
    stream.write('retry: 3000\n: connected\n\n');
    // The page may have gone while the session was checked: its 'close' has passed, and
    // without this the listener and its slot (3 per buyer) would stay until a restart.
    if (ctx.req.socket.destroyed) stop();
  });

  return router;
}

async function readSmallJson<T>(ctx: Context, schema: z.ZodType<T>): Promise<T> {
  const raw = await readBody(ctx.req, WIDGET_BODY_LIMIT);
  return parseJsonBody(raw.length === 0 ? '{}' : raw, schema);
}
