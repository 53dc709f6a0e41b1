import type { RedisConnection, RedisKeys } from '../shared/redis';

/**
 * Overtime hours the operator records per shop day, kept as integer
 * hundredths of an hour (36 s) so sums are exact. Recording a day again
 * replaces its hours, so a repeated request changes nothing.
 */
export class OvertimeLog {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
  ) {}

  key(shopId: string, month: string): string {
    return this.keys.month(shopId, month, 'overtime');
  }

  async record(shopId: string, day: string, hours: number): Promise<void> {
    await this.redis.hset(this.key(shopId, day.slice(0, 7)), day, String(Math.round(hours * 100)));
  }
}

/** Sums a month's overtime hash (day → hundredths) into decimal hours. */
export function overtimeHoursOf(hash: Record<string, string>): number {
  const hundredths = Object.values(hash).reduce((sum, v) => sum + Number(v), 0);
  return hundredths / 100;
}
