import { describe, expect, it } from 'vitest';
import { jobIds } from '../../src/pipeline/queues';

describe('job ids', () => {
  it('keep their parts apart whatever the parts contain', () => {
    // Under a separator-joined layout each pair was one id: one job would swallow the other.
    expect(jobIds.inbound('generic', 'shp_a\u0000x', 'e')).not.toBe(
      jobIds.inbound('generic', 'shp_a', 'x\u0000e'),
    );
    expect(jobIds.inbound('generic', 'shp_a', 'x","e')).not.toBe(
      jobIds.inbound('generic', 'shp_a","x', 'e'),
    );
    expect(jobIds.unansweredClose('cnv_a', 1, 23)).not.toBe(jobIds.unansweredClose('cnv_a', 12, 3));
    expect(jobIds.inbound('generic', 'shp_a', 'e')).toBe(jobIds.inbound('generic', 'shp_a', 'e'));
    // BullMQ refuses ':' in custom ids.
    expect(jobIds.inbound('generic', 'shp:a', 'e:1')).not.toContain(':');
  });

  it('keep an inbound id short however long the event id is', () => {
    // BullMQ writes the id some twenty times per message, all into the append-only file.
    const long = jobIds.inbound('telegram', 'shp_0123456789abcdef', `evt-${'x'.repeat(500)}`);
    expect(long).toMatch(/^in_[\w-]{22}$/);
    const ids = new Set(
      Array.from({ length: 10_000 }, (_, i) => jobIds.inbound('generic', 'shp_a', `e${i}`)),
    );
    expect(ids.size).toBe(10_000);
  });

  it('give an event the inbound id it had in earlier releases', () => {
    // A redelivery after an upgrade must find the job queued before it (same id, one job).
    expect(jobIds.inbound('generic', 'shp_a', 'evt-1')).toBe('in_bjA-1uYe7defEnij_FPOlb');
  });
});
