import type { IncomingMessage } from 'node:http';
import { AppError } from '../shared/errors';

/** The JSON size limit of the API's own routes. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** A body that has not fully arrived by then is abandoned (slow-body connections). */
export const BODY_READ_TIMEOUT_MS = 10_000;

/**
 * The bytes of request bodies being read at once in this process, across every request: each
 * body is capped on its own (up to 4 MiB for WhatsApp), but thousands of connections each
 * sending a large body slowly would otherwise be buffered together until memory runs out. A
 * body that would take the total past the capacity is refused with 503 and Retry-After
 * (platforms retry), before it is read when its Content-Length says so, else as it arrives.
 */
export class BodyBudget {
  private used = 0;

  constructor(private capacity: number) {}

  /** HTTP_MAX_BUFFERED_BODY_BYTES, set when the server is created. */
  setCapacity(bytes: number): void {
    this.capacity = bytes;
  }

  take(bytes: number): boolean {
    if (this.used + bytes > this.capacity) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }

  /** Bytes reserved by bodies being read now. */
  get inUse(): number {
    return this.used;
  }
}

/** The process's budget (config.ts's default until the server sets it). */
export const bodyBudget = new BodyBudget(64 * 1024 * 1024);

/**
 * Reads the body as raw bytes (signatures are computed over them), refusing
 * more than the limit, a body still arriving after the deadline, or one that
 * does not fit the process's body budget. On each the connection is closed
 * after the answer, so the rest is never read.
 * Event listeners rather than an async iterator: this runs for every webhook,
 * and the iterator's promise per chunk is measurable there.
 */
export function readBody(
  req: IncomingMessage,
  limit = MAX_BODY_BYTES,
  timeoutMs = BODY_READ_TIMEOUT_MS,
  budget = bodyBudget,
): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] || '0');
  if (declared > limit) return Promise.reject(tooLarge(limit));
  // Gone before reading began (a caller awaited something first): its `close` has passed.
  if (req.destroyed || req.readableAborted) return Promise.reject(clientGone());
  // What Content-Length announces is reserved up front, so a refusal costs no read.
  let reserved = Number.isSafeInteger(declared) && declared > 0 ? declared : 0;
  if (!budget.take(reserved)) {
    req.pause();
    return Promise.reject(tooBusy());
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const timer = setTimeout(() => {
      finish(slowBody(timeoutMs));
      req.destroy();
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      chunks.push(chunk);
      if (size > limit) return finish(tooLarge(limit));
      if (size > reserved) {
        if (!budget.take(size - reserved)) return finish(tooBusy());
        reserved = size;
      }
    };
    const onEnd = () => finish(null);
    // The client went away mid-body (or sent a malformed one): nobody to answer, nothing of ours
    // failed, so a 4xx that is not logged as our error, whatever a stranger does with sockets.
    const onError = () => finish(clientGone());
    const onClose = () => finish(clientGone());
    function finish(error: Error | null) {
      if (done) return;
      done = true;
      // The bytes are the caller's now (or dropped): the budget only bounds bodies being read.
      budget.give(reserved);
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

function tooBusy(): AppError {
  return new AppError(
    503,
    'unavailable',
    'The service is reading too many request bodies at once; retry shortly.',
    { headers: { 'Retry-After': '1', Connection: 'close' } },
  );
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
