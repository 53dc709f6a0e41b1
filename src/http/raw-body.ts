import type { Context } from 'koa';
import { AppError } from '../shared/errors';

/** The JSON size limit of the API's own routes. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** A body that has not fully arrived by then is abandoned (slow-body connections). */
export const BODY_READ_TIMEOUT_MS = 10_000;

/**
 * Reads the body as raw bytes (signatures are computed over them), refusing
 * more than the limit or a body still arriving after the deadline. On either
 * the connection is closed after the answer, so the rest is never read.
 */
export async function readRawBody(
  ctx: Context,
  limit = MAX_BODY_BYTES,
  timeoutMs = BODY_READ_TIMEOUT_MS,
): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || '0');
  if (declared > limit) throw refuse(ctx, tooLarge(limit));
  const chunks: Buffer[] = [];
  let size = 0;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ctx.req.destroy();
  }, timeoutMs);
  try {
    for await (const chunk of ctx.req) {
      size += (chunk as Buffer).length;
      if (size > limit) throw refuse(ctx, tooLarge(limit));
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (timedOut) throw refuse(ctx, slowBody(timeoutMs));
    throw error;
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) throw refuse(ctx, slowBody(timeoutMs));
  return Buffer.concat(chunks);
}

function refuse(ctx: Context, error: AppError): AppError {
  ctx.set('Connection', 'close');
  return error;
}

function tooLarge(limit: number): AppError {
  return new AppError(413, 'payload_too_large', `The body is larger than ${limit} bytes.`);
}

function slowBody(timeoutMs: number): AppError {
  return new AppError(408, 'request_timeout', `The body did not arrive within ${timeoutMs} ms.`);
}
