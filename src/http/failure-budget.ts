import { AppError } from '../shared/errors';

/**
 * Failed webhook verifications per key (a client address and the shop it
 * delivered to, see routes/webhook-routes.ts) in a fixed one-minute
 * window, kept in process memory: the check costs no Redis round trip on the
 * hot path, and a stranger's flood of forged requests is refused (429) before
 * its body is even read. Bounded: past `maxTracked` keys the oldest
 * windows are forgotten.
 */
export class FailureBudget {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(
    private readonly limitPerMinute: number,
    private readonly now: () => number,
    private readonly maxTracked = 50_000,
  ) {}

  /** Throws 429 with Retry-After while `key` has used up its failures this minute. */
  check(key: string): void {
    const window = this.current(key);
    if (!window || window.failures < this.limitPerMinute) return;
    const retryAfter = Math.max(1, Math.ceil((window.start + 60_000 - this.now()) / 1000));
    throw new AppError(
      429,
      'too_many_failed_verifications',
      `More than ${this.limitPerMinute} deliveries from this address to this shop failed verification this minute.`,
      {
        headers: { 'Retry-After': String(retryAfter) },
        details: { retryAfterSeconds: retryAfter },
      },
    );
  }

  record(key: string): void {
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
