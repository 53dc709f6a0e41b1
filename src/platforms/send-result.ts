import type { SendResult } from './contract';
import { OutboundRefused } from './outbound-guard';

/** What one platform call came back with, read once so the body can be inspected. */
export interface PlatformResponse {
  status: number;
  body: unknown;
}

/**
 * A platform call that hangs must not hold a send slot; past this it is a
 * retryable network failure. Connecting gets far less (see the dispatcher).
 */
export const PLATFORM_TIMEOUT_MS = 10_000;

/** POSTs JSON through the injected fetch; a network failure or timeout comes back as a retryable SendResult. */
export async function postJson(
  http: { fetch: typeof fetch },
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<PlatformResponse | SendResult> {
  let response: Response;
  try {
    response = await http.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(PLATFORM_TIMEOUT_MS),
    });
  } catch (error) {
    return networkFailure(error);
  }
  return { status: response.status, body: await readJsonBounded(response) };
}

/** A platform's JSON answer, read up to MAX_RESPONSE_BYTES; undefined when empty or not JSON. */
export async function readJsonBounded(response: Response): Promise<unknown> {
  const text = await readBounded(response, MAX_RESPONSE_BYTES);
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    // Proxies in front of a platform answer HTML on 502/503: never shown nor logged, only the status.
    return undefined;
  }
}

export function isPlatformResponse(
  value: PlatformResponse | SendResult,
): value is PlatformResponse {
  return 'status' in value && 'body' in value && !('ok' in value);
}

/** A platform's JSON answer is small; anything bigger is not read past this. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** Reads at most `limit` bytes of a response body (the rest is discarded unread). */
export async function readBounded(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    return '';
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/**
 * A send that never got an answer. A refused destination (private address,
 * wrong scheme) will be refused again: final. Anything else is worth a retry.
 * Only a short code is kept: a network error's text can name internal hosts.
 */
export function networkFailure(error: unknown): Extract<SendResult, { ok: false }> {
  if (error instanceof OutboundRefused)
    return { ok: false, retryable: false, error: `destination refused (${error.code})` };
  const code = errorCode(error);
  if (code === 'EADDRNOTALLOWED')
    return { ok: false, retryable: false, error: 'destination refused (address_not_allowed)' };
  return { ok: false, retryable: true, error: `network error (${code ?? 'unreachable'})` };
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const { code, name, cause } = current as { code?: unknown; name?: unknown; cause?: unknown };
    if (typeof code === 'string' && /^[A-Z_]{3,40}$/.test(code)) return code;
    if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
    current = cause;
  }
  return undefined;
}

/**
 * The common status mapping: 2xx accepted; 429 and 5xx are worth retrying;
 * any other 4xx will fail the same way again, so it ends the reply.
 */
export function failureFromStatus(status: number, platformMessage: string): SendResult {
  const retryable = status === 429 || status >= 500;
  return { ok: false, retryable, error: platformMessage, status };
}

/** Reads `path` (e.g. ['error', 'message']) from an unknown JSON body, if it is a string or number. */
export function readField(body: unknown, path: readonly string[]): string | undefined {
  let current: unknown = body;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  if (typeof current === 'string') return current;
  if (typeof current === 'number') return String(current);
  return undefined;
}

/** A platform's documented JSON error message, at most 200 characters: shown to agents and logged. */
export function platformMessage(body: unknown, path: readonly string[]): string | undefined {
  return readField(body, path)?.slice(0, 200) || undefined;
}

/** A short description for agents: the platform's documented JSON error message, or only the status. */
export function describeFailure(status: number, body: unknown, path: readonly string[]): string {
  return platformMessage(body, path) ?? `HTTP ${status}`;
}
