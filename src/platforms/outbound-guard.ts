import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent } from 'undici';

/**
 * Where outbound HTTP may go. A tenant can set a reply URL, so every send is
 * checked: `https:` only (plain `http:` only for hosts on the operator's
 * development list), and every address the name resolves to must be public:
 * not loopback, private, link-local (cloud metadata), CGNAT, multicast,
 * unspecified, documentation or reserved, in IPv4, IPv6 or IPv4 inside IPv6.
 * The check runs on the address actually connected to (no DNS rebinding), and
 * redirects are never followed.
 */

const blocked = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT (Alibaba Cloud metadata 100.100.100.200 sits here)
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local: AWS/GCP/Azure metadata 169.254.169.254
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved and broadcast
] as const)
  blocked.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128],
  ['::', 96], // IPv4-compatible (deprecated)
  ['64:ff9b::', 96], // NAT64: would reach the embedded IPv4
  ['64:ff9b:1::', 48],
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (Teredo, ORCHID...)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: would reach the embedded IPv4
  ['fc00::', 7], // unique local (AWS IPv6 metadata fd00:ec2::254)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const)
  blocked.addSubnet(network, prefix, 'ipv6');

/** True for any address an outbound request must not reach. */
export function isForbiddenAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family === 4) return blocked.check(bare, 'ipv4');
  if (family !== 6) return true;
  const mapped = /^::ffff:(?:0:)?(.+)$/i.exec(bare)?.[1];
  if (mapped) return isForbiddenAddress(mapped.includes('.') ? mapped : hexToIpv4(mapped));
  return blocked.check(bare, 'ipv6');
}

function hexToIpv4(hex: string): string {
  const [high = '0', low = '0'] = hex.split(':');
  const value = (Number.parseInt(high, 16) << 16) | Number.parseInt(low, 16);
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

/** Why an outbound URL is refused: a short code, safe to show and log. */
export class OutboundRefused extends Error {
  override name = 'OutboundRefused';
  constructor(
    readonly code:
      | 'invalid_url'
      | 'scheme_not_allowed'
      | 'credentials_in_url'
      | 'address_not_allowed'
      | 'unresolvable_host',
    message: string,
  ) {
    super(message);
  }
}

/** The operator's development hosts: exact names, or `.suffix` for a whole domain. */
export class OutboundPolicy {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];

  constructor(devHosts: readonly string[] = []) {
    for (const raw of devHosts) {
      const host = raw.trim().toLowerCase();
      if (!host) continue;
      if (host.startsWith('.')) this.suffixes.push(host);
      else this.exact.add(host.replace(/^\[|\]$/g, ''));
    }
  }

  isDevHost(hostname: string): boolean {
    const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
    return this.exact.has(host) || this.suffixes.some((suffix) => host.endsWith(suffix));
  }

  /**
   * What can be said without DNS: the scheme, no user:password, and no
   * forbidden address written as a literal (the URL parser has already turned
   * 0x7f.1, 2130706433 or 017700000001 into 127.0.0.1). Used when a shop is
   * saved and again before every send.
   */
  checkStatic(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new OutboundRefused('invalid_url', 'must be an absolute https URL');
    }
    const dev = this.isDevHost(url.hostname);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && dev)) {
      throw new OutboundRefused(
        'scheme_not_allowed',
        url.protocol === 'http:'
          ? 'must use https (plain http only for hosts in OUTBOUND_DEV_HOSTS)'
          : `must be an https URL, not ${url.protocol}`,
      );
    }
    if (url.username || url.password)
      throw new OutboundRefused('credentials_in_url', 'must not carry a user name or password');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!dev && isIP(host) !== 0 && isForbiddenAddress(host)) {
      throw new OutboundRefused(
        'address_not_allowed',
        'must not point at a loopback, private, link-local or reserved address',
      );
    }
    return url;
  }

  /** The static check, then every address the name resolves to (development hosts excepted). */
  async checkAtSend(raw: string, resolve = resolveAll): Promise<URL> {
    const url = this.checkStatic(raw);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (this.isDevHost(host) || isIP(host) !== 0) return url;
    let addresses: string[];
    try {
      addresses = await resolve(host);
    } catch {
      throw new OutboundRefused('unresolvable_host', 'the host name does not resolve');
    }
    if (addresses.length === 0 || addresses.some(isForbiddenAddress)) {
      throw new OutboundRefused(
        'address_not_allowed',
        'the host resolves to a loopback, private, link-local or reserved address',
      );
    }
    return url;
  }

  /**
   * The connection-time half: an undici dispatcher whose DNS lookup refuses
   * forbidden addresses, so a name that resolved to a public address at
   * check time cannot connect to a private one a moment later. Short connect
   * timeout: a host that does not answer frees the send slot quickly.
   */
  dispatcher(connectTimeoutMs: number): Agent {
    return new Agent({
      connect: {
        timeout: connectTimeoutMs,
        lookup: (hostname, options, callback) => {
          dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
            if (error) return callback(error, '', 4);
            const list = addresses as unknown as LookupAddress[];
            const allowed = this.isDevHost(hostname)
              ? list
              : list.filter((a) => !isForbiddenAddress(a.address));
            if (allowed.length === 0 || allowed.length !== list.length) {
              const refused = Object.assign(new Error('address not allowed'), {
                code: 'EADDRNOTALLOWED',
              });
              return callback(refused, '', 4);
            }
            if ((options as { all?: boolean }).all)
              return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
            return callback(null, allowed[0]!.address, allowed[0]!.family);
          });
        },
      },
    });
  }
}

function resolveAll(host: string): Promise<string[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(host, { all: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses.map((a) => a.address)),
    ),
  );
}

/**
 * The fetch every adapter's send uses: the destination checked first, then
 * fetched through the guarded dispatcher, never following a redirect (a 3xx
 * is a failure like any other refusal).
 */
export function guardedFetch(
  policy: OutboundPolicy,
  options: { connectTimeoutMs: number; resolve?: (host: string) => Promise<string[]> },
): typeof fetch {
  const dispatcher = policy.dispatcher(options.connectTimeoutMs);
  return async (input, init) => {
    const target =
      typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    // The send's deadline covers the check's DNS lookup too: a resolver that never answers
    // would otherwise hold the send slot past it.
    await untilAborted(policy.checkAtSend(target, options.resolve), init?.signal);
    // Looked up at call time so tests' HTTP interception sees every request.
    return fetch(input, { ...init, redirect: 'manual', dispatcher } as RequestInit);
  };
}

/** The promise, or the signal's reason (a `TimeoutError` for `AbortSignal.timeout`) if it aborts first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | null | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
