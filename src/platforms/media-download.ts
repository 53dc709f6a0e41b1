import { AppError, mediaNotFound, mediaUnavailable } from '../shared/errors';
import type { PlatformHttp } from './contract';
import { OutboundRefused } from './outbound-guard';
import { readBounded } from './send-result';

/**
 * The platform half of the agents' media proxy: GETs through the guarded
 * fetch (https, public addresses, checked at connect time), only to the hosts
 * a platform serves its media from, so a shop's token never leaves its
 * platform. Nothing here reads or logs a media body or a token.
 */

/** The CDN hosts Meta hands out media URLs on (WhatsApp's lookaside, Messenger's attachments). */
export const META_MEDIA_HOSTS = ['.fbsbx.com', '.facebook.com', '.fbcdn.net', '.whatsapp.net'];

/** A platform's JSON answer (a lookup step) is small; anything bigger is not read past this. */
const LOOKUP_BYTES = 64 * 1024;

/** `.example.com` matches the domain and its subdomains; a bare name matches exactly. */
export function hostAllowed(url: URL, hosts: readonly string[], http: PlatformHttp): boolean {
  const host = url.hostname.toLowerCase();
  return (
    hosts.some((allowed) =>
      allowed.startsWith('.')
        ? host.endsWith(allowed) || host === allowed.slice(1)
        : host === allowed.toLowerCase(),
    ) || http.isDevHost?.(host) === true
  );
}

/** The host part of a configured API base, for the host lists. */
export const hostOf = (base: string) => new URL(base).hostname.toLowerCase();

/**
 * One media GET. Redirects are followed only where `redirects` allows (a
 * platform known to hand off to its CDN), each hop checked again by the guard
 * and the host list, and the Authorization header dropped once the host
 * changes.
 */
export async function mediaGet(
  http: PlatformHttp,
  url: string,
  options: {
    platform: string;
    hosts: readonly string[];
    signal: AbortSignal;
    headers?: Record<string, string>;
    redirects?: number;
  },
): Promise<Response> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw mediaUnavailable(`${options.platform} gave a malformed download address.`);
  }
  let headers = options.headers ?? {};
  for (let hop = 0; ; hop += 1) {
    if (!hostAllowed(target, options.hosts, http))
      throw mediaUnavailable(`${options.platform} pointed the download outside its own hosts.`);
    let response: Response;
    try {
      response = await http.fetch(target.href, {
        method: 'GET',
        headers,
        signal: options.signal,
        redirect: 'manual',
      });
    } catch (error) {
      throw fetchFailure(options.platform, error, options.signal);
    }
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await discard(response);
      if (hop >= (options.redirects ?? 0))
        throw mediaUnavailable(`${options.platform} redirected the download.`);
      const next = new URL(location, target);
      if (next.host !== target.host) {
        const { authorization: _dropped, ...rest } = headers;
        headers = rest;
      }
      target = next;
      continue;
    }
    return response;
  }
}

/** A failed fetch as the agent's error: a timeout, a refused address, or an unreachable platform. */
export function fetchFailure(platform: string, error: unknown, signal: AbortSignal): AppError {
  if (error instanceof AppError) return error;
  if (signal.aborted || (error instanceof Error && error.name === 'TimeoutError'))
    return mediaUnavailable(`${platform} did not deliver the file in time.`, { timeout: true });
  if (error instanceof OutboundRefused)
    return mediaUnavailable(`The ${platform} address was refused (${error.code}).`);
  // A network error's text can name internal hosts: only the platform is said.
  return mediaUnavailable(`${platform} could not be reached.`);
}

/** A platform's non-2xx answer as the agent's error; its body is never read. */
export async function refuseUpstream(platform: string, response: Response): Promise<never> {
  await discard(response);
  if (response.status === 404 || response.status === 410)
    throw mediaNotFound(
      `${platform} no longer has this file (platforms keep media for days only).`,
    );
  throw mediaUnavailable(`${platform} answered HTTP ${response.status}.`);
}

/** A lookup step's small JSON answer (bounded; a body that is not JSON is a failure). */
export async function readLookup(platform: string, response: Response): Promise<unknown> {
  const text = await readBounded(response, LOOKUP_BYTES);
  try {
    return JSON.parse(text);
  } catch {
    throw mediaUnavailable(`${platform} answered something other than JSON.`);
  }
}

export async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

/** The bare media type of a Content-Type header, lower-cased ("" when absent). */
export function bareType(contentType: string | null): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}
