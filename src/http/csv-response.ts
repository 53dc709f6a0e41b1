import type { Context } from 'koa';

/** Does the client ask for CSV rather than JSON (Accept: text/csv)? */
export function wantsCsv(ctx: Context): boolean {
  return ctx.accepts('application/json', 'text/csv') === 'text/csv';
}

export function sendCsv(ctx: Context, filename: string, body: string): void {
  ctx.type = 'text/csv; charset=utf-8';
  ctx.set('Content-Disposition', `attachment; filename="${filename}"`);
  ctx.body = body;
}
