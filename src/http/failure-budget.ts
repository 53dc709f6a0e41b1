import { AppError } from '../shared/errors';

/**
 * An address's failures to all shops together may be this many times one shop's budget: ten
 * shops with stale secrets on one platform at once before its servers are refused for all.
 */
export const ADDRESS_FACTOR = 10;

/**
 * Failed webhook verifications in a fixed one-minute window, kept in process memory: the check
 * costs no Redis round trip on the hot path, and a stranger's flood of forged requests is
 * refused (429) before its body is even read. Counted twice: per client address and shop
 * (`limitPerMinute`), since platforms deliver for every shop from a few shared servers and one
 * shop with a stale secret must not get them refused for the others; and per address alone, at
 * ADDRESS_FACTOR times that, so one address cannot get unbounded tries by spreading them over
 * many shops. Bounded: past `maxTracked` keys the oldest windows are forgotten.
 */
export class FailureBudget {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(
    private readonly limitPerMinute: number,
    private readonly now: () => number,
    private readonly maxTracked = 50_000,
  ) {}

  /** Throws 429 with Retry-After while `address` has used up its failures this minute, to `scope` or in all. */
  check(address: string, scope: string): void {
    this.checkKey(`${address} ${scope}`, this.limitPerMinute, 'from this address to this shop');
    this.checkKey(address, this.limitPerMinute * ADDRESS_FACTOR, 'from this address');
  }

  record(address: string, scope: string): void {
    this.recordKey(`${address} ${scope}`);
    this.recordKey(address);
  }

  private checkKey(key: string, limit: number, whose: string): void {
    const window = this.current(key);
    if (!window || window.failures < limit) return;
    const retryAfter = Math.max(1, Math.ceil((window.start + 60_000 - this.now()) / 1000));
    throw new AppError(
      429,
      'too_many_failed_verifications',
      `More than ${limit} deliveries ${whose} failed verification this minute.`,
      {
        headers: { 'Retry-After': String(retryAfter) },
        details: { retryAfterSeconds: retryAfter },
      },
    );
  }

  private recordKey(key: string): void {
    const window = this.current(key);
    if (window) {
      window.failures += 1;
      return;
    }
    if (this.windows.size >= this.maxTracked) {
      const oldest = this.windows.keys().next().value;
      if (oldest !== undefined) this.windows.delete(oldest);
    }
    this.windows.set(key, { start: this.now(), failures: 1 });
  }

  private current(key: string) {
    const window = this.windows.get(key);
    if (window && this.now() - window.start >= 60_000) {
      this.windows.delete(key);
      return undefined;
    }
    return window;
  }
}
