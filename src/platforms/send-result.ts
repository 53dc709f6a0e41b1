import type { SendResult } from './contract';

/** What one platform call came back with, read once so the body can be inspected. */
export interface PlatformResponse {
  status: number;
  body: unknown;
}

/** A platform call that hangs must not hold a worker; past this it is a retryable network failure. */
export const PLATFORM_TIMEOUT_MS = 15_000;

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
  const text = await response.text().catch(() => '');
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Proxies in front of a platform answer HTML on 502/503; keep the text for the error message.
  }
  return { status: response.status, body: parsed };
}

export function isPlatformResponse(
  value: PlatformResponse | SendResult,
): value is PlatformResponse {
  return 'status' in value && 'body' in value && !('ok' in value);
}

export function networkFailure(error: unknown): SendResult {
  const reason = error instanceof Error ? error.message : String(error);
  return { ok: false, retryable: true, error: `network error: ${reason}` };
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

/** A short description of an error body for agents: the platform's message, or the status. */
export function describeFailure(status: number, body: unknown, path: readonly string[]): string {
  const message = readField(body, path);
  if (message) return message;
  if (typeof body === 'string' && body.trim())
    return `HTTP ${status}: ${body.trim().slice(0, 200)}`;
  return `HTTP ${status}`;
}
