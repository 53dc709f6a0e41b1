import { describe, expect, it } from 'vitest';
import {
  guardedFetch,
  isForbiddenAddress,
  OutboundPolicy,
  OutboundRefused,
} from '../../../src/platforms/outbound-guard';

const policy = new OutboundPolicy(['stand-in.local', '.test']);

/** Hostile reply URLs a tenant could save: each must be refused before anything is sent. */
const hostileLiterals: Array<[string, OutboundRefused['code']]> = [
  ['http://example.com/replies', 'scheme_not_allowed'],
  ['file:///etc/passwd', 'scheme_not_allowed'],
  ['data:text/plain,ok', 'scheme_not_allowed'],
  ['gopher://127.0.0.1:6379/_FLUSHALL', 'scheme_not_allowed'],
  ['ftp://example.com/x', 'scheme_not_allowed'],
  ['javascript:alert(1)', 'scheme_not_allowed'],
  ['https://127.0.0.1/replies', 'address_not_allowed'],
  ['https://127.1/replies', 'address_not_allowed'],
  ['https://0x7f.1/replies', 'address_not_allowed'],
  ['https://2130706433/replies', 'address_not_allowed'],
  ['https://017700000001/replies', 'address_not_allowed'],
  ['https://0.0.0.0/replies', 'address_not_allowed'],
  ['https://[::1]/replies', 'address_not_allowed'],
  ['https://[::]/replies', 'address_not_allowed'],
  ['https://[::ffff:127.0.0.1]/replies', 'address_not_allowed'],
  ['https://[::ffff:169.254.169.254]/latest/meta-data', 'address_not_allowed'],
  ['https://169.254.169.254/latest/meta-data/', 'address_not_allowed'],
  ['https://[fd00:ec2::254]/latest/meta-data/', 'address_not_allowed'],
  ['https://100.100.100.200/latest/meta-data/', 'address_not_allowed'],
  ['https://10.0.0.5/admin', 'address_not_allowed'],
  ['https://172.16.3.4/', 'address_not_allowed'],
  ['https://192.168.1.1/', 'address_not_allowed'],
  ['https://100.64.0.1/', 'address_not_allowed'],
  ['https://224.0.0.1/', 'address_not_allowed'],
  ['https://[fe80::1]/', 'address_not_allowed'],
  ['https://[ff02::1]/', 'address_not_allowed'],
  ['https://[64:ff9b::7f00:1]/', 'address_not_allowed'],
  ['https://[2002:7f00:1::]/', 'address_not_allowed'],
  ['https://user:pass@example.com/replies', 'credentials_in_url'],
  ['not a url', 'invalid_url'],
];

describe('outbound policy: the static check', () => {
  it.each(hostileLiterals)('refuses %s (%s)', (url, code) => {
    let refused: unknown;
    try {
      policy.checkStatic(url);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(OutboundRefused);
    expect((refused as OutboundRefused).code).toBe(code);
  });

  it('accepts https to a public host, and plain http only for development hosts', () => {
    expect(policy.checkStatic('https://shop.example.com/replies').hostname).toBe(
      'shop.example.com',
    );
    expect(policy.checkStatic('https://93.184.216.34/replies').hostname).toBe('93.184.216.34');
    expect(policy.checkStatic('http://bridge.test/replies').hostname).toBe('bridge.test');
    expect(policy.checkStatic('http://stand-in.local:4000/r').hostname).toBe('stand-in.local');
    expect(() => policy.checkStatic('http://stand-in.local.evil.com/')).toThrow(OutboundRefused);
  });
});

describe('outbound policy: at send time', () => {
  const resolver = (table: Record<string, string[]>) => async (host: string) => {
    const found = table[host];
    if (!found) throw new Error('ENOTFOUND');
    return found;
  };

  it.each([
    ['https://rebind.example.com/', ['127.0.0.1']],
    ['https://metadata.example.com/', ['169.254.169.254']],
    ['https://mixed.example.com/', ['93.184.216.34', '10.1.2.3']],
    ['https://v6.example.com/', ['::1']],
    ['https://mapped.example.com/', ['::ffff:192.168.0.1']],
  ])('refuses %s when it resolves to %j', async (url, addresses) => {
    const host = new URL(url).hostname;
    await expect(policy.checkAtSend(url, resolver({ [host]: addresses }))).rejects.toMatchObject({
      code: 'address_not_allowed',
    });
  });

  it('refuses a name that does not resolve, and allows a public one', async () => {
    await expect(
      policy.checkAtSend('https://nowhere.example.com/', resolver({})),
    ).rejects.toMatchObject({ code: 'unresolvable_host' });
    const ok = await policy.checkAtSend(
      'https://shop.example.com/r',
      resolver({ 'shop.example.com': ['93.184.216.34', '2606:2800:220:1::1'] }),
    );
    expect(ok.hostname).toBe('shop.example.com');
  });

  it('ends a send whose DNS lookup never answers at the send’s deadline', async () => {
    const send = guardedFetch(policy, {
      connectTimeoutMs: 1_000,
      resolve: () => new Promise<string[]>(() => {}),
    });
    const started = Date.now();
    const outcome = await Promise.race([
      send('https://slow-dns.example.com/r', { signal: AbortSignal.timeout(50) }).then(
        () => 'answered',
        (error: Error) => error.name,
      ),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 2_000)),
    ]);
    // The adapters' send results read a TimeoutError as a timeout (retried, slot freed).
    expect(outcome).toBe('TimeoutError');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('classifies addresses in every spelling the resolver can return', () => {
    for (const address of ['127.0.0.1', '::1', '::ffff:7f00:1', '::ffff:127.0.0.1', '0.0.0.0'])
      expect(isForbiddenAddress(address)).toBe(true);
    for (const address of ['93.184.216.34', '2606:2800:220:1::1', '::ffff:93.184.216.34'])
      expect(isForbiddenAddress(address)).toBe(false);
  });
});
