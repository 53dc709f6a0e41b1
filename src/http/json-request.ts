import type { Context } from 'koa';
import type { z } from 'zod';
import { parseJsonBody } from '../platforms/json-body';
import { readBody } from './raw-body';

/** Reads and validates a JSON body; errors are 400 naming the field, 413 over 1 MiB. */
export async function readJson<T>(ctx: Context, schema: z.ZodType<T>): Promise<T> {
  const raw = await readBody(ctx.req);
  return parseJsonBody(raw.length === 0 ? '{}' : raw, schema);
}
