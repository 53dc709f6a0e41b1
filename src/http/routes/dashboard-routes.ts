import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import type { Context } from 'koa';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dashboard');
const ASSETS: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
};

/**
 * The owner dashboard: static files, public (the page signs in with the owner
 * key and calls the /v1 JSON API). A strict CSP keeps any injected text inert.
 */
export function dashboardRoutes(): Router {
  const router = new Router();
  const files = new Map(Object.keys(ASSETS).map((name) => [name, fs.readFileSync(path.join(DIR, name))]));
  const serve = (name: string) => (ctx: Context) => {
    ctx.type = ASSETS[name]!;
    ctx.set('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'");
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = files.get(name);
  };
  router.get('/dashboard', serve('index.html'));
  router.get('/dashboard/dashboard.js', serve('dashboard.js'));
  router.get('/dashboard/dashboard.css', serve('dashboard.css'));
  return router;
}
