import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import type { Context } from 'koa';
import { notFound } from '../../shared/errors';

const WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web');
const PAGES = ['console', 'dashboard', 'admin'] as const;
/** Files shared by the pages (the language catalogs and their loader, the base styles), served without an index. */
const SHARED = ['i18n', 'shared'] as const;
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
};

/**
 * The agent console and the owner dashboard (and the language catalogs they
 * share, under /i18n): static files, no inline script,
 * and a Content-Security-Policy that forbids any other origin, so buyer text
 * that slipped past escaping still cannot run.
 */
export function pageRoutes(): Router {
  const router = new Router();
  // blob: images, sound and video are buyers' media the console fetched with the agent's token (never a bare URL).
  const security = {
    'Content-Security-Policy':
      "default-src 'self'; img-src 'self' data: blob:; media-src blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  };

  for (const page of [...PAGES, ...SHARED]) {
    const dir = path.join(WEB_ROOT, page);
    if (!fs.existsSync(dir)) continue;
    // Read once at start: the assets are small and fixed for a release.
    const files = new Map(
      fs.readdirSync(dir).map((name) => [name, fs.readFileSync(path.join(dir, name))]),
    );
    const send = (ctx: Context, name: string) => {
      const body = files.get(name);
      if (!body) throw notFound('Page');
      ctx.set(security);
      ctx.type = TYPES[path.extname(name)] ?? 'application/octet-stream';
      ctx.body = body;
    };
    if (files.has('index.html')) router.get(`/${page}`, (ctx) => send(ctx, 'index.html'));
    router.get(`/${page}/:file`, (ctx) => send(ctx, ctx.params.file!));
  }
  return router;
}
