import type { IncomingMessage } from 'node:http';
import { AppError } from '../shared/errors';

/** The JSON size limit of the API's own routes. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** A body that has not fully arrived by then is abandoned (slow-body connections). */
export const BODY_READ_TIMEOUT_MS = 10_000;

/**
 * Reads the body as raw bytes (signatures are computed over them), refusing
 * more than the limit or a body still arriving after the deadline. On either
 * the connection is closed after the answer, so the rest is never read.
 * Event listeners rather than an async iterator: this runs for every webhook,
 * and the iterator's promise per chunk is measurable there.
 */
export function readBody(
  req: IncomingMessage,
  limit = MAX_BODY_BYTES,
  timeoutMs = BODY_READ_TIMEOUT_MS,
): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] || '0');
  if (declared > limit) return Promise.reject(tooLarge(limit));
  // Gone before reading began (a caller awaited something first): its `close` has passed.
  if (req.destroyed || req.readableAborted) return Promise.reject(clientGone());
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      finish(slowBody(timeoutMs));
      req.destroy();
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      chunks.push(chunk);
      if (size > limit) finish(tooLarge(limit));
    };
    const onEnd = () => finish(null);
    // The client went away mid-body (or sent a malformed one): nobody to answer, nothing of ours
    // failed, so a 4xx that is not logged as our error, whatever a stranger does with sockets.
    const onError = () => finish(clientGone());
    const onClose = () => finish(clientGone());
    function finish(error: Error | null) {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (error) {
        // Stop reading: the answer closes the connection, so the rest never arrives.
        req.pause();
        reject(error);
      } else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** Refusals close the connection after the answer: the unread rest of the body is dropped. */
function tooLarge(limit: number): AppError {
  return new AppError(413, 'payload_too_large', `The body is larger than ${limit} bytes.`, {
    headers: { Connection: 'close' },
  });
}

function slowBody(timeoutMs: number): AppError {
  return new AppError(408, 'request_timeout', `The body did not arrive within ${timeoutMs} ms.`, {
    headers: { Connection: 'close' },
  });
}

function clientGone(): AppError {
  return new AppError(
    400,
    'request_aborted',
    'The client closed the request before its body ended.',
    {
      headers: { Connection: 'close' },
    },
  );
}
