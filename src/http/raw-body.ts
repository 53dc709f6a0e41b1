import type { Context } from 'koa';
import { AppError } from '../shared/errors';

/** The webhook and JSON size limit. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Reads the body as raw bytes (signatures are computed over them), refusing more than the limit. */
export async function readRawBody(ctx: Context, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || '0');
  if (declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function tooLarge(limit: number): AppError {
  return new AppError(413, 'payload_too_large', `The body is larger than ${limit} bytes.`);
}
