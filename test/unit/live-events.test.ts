import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LIVE_EVENT_FIELDS, LIVE_EVENT_TYPES } from '../../src/agents/live-events';

const JSON_PATH = 'src/web/console/live-events.json';

describe('the live event map', () => {
  it('is published for the console as live-events.json, field for field', () => {
    // After changing LiveEventMap, rewrite the file with `npm run live-events`.
    expect(JSON.parse(fs.readFileSync(JSON_PATH, 'utf8'))).toEqual(LIVE_EVENT_FIELDS);
  });

  it('names every event the stream sends, each with the shop(s) it belongs to', () => {
    expect([...LIVE_EVENT_TYPES].sort()).toEqual(
      ['alert', 'conversation', 'message', 'presence', 'reply', 'suggestion'].sort(),
    );
    for (const type of LIVE_EVENT_TYPES) {
      const fields = LIVE_EVENT_FIELDS[type] as Record<string, string>;
      // A stream is filtered by the agent's current shops, so every event must name its shop.
      expect(fields.shopId ?? fields.shopIds).toBe('required');
      for (const kind of Object.values(fields)) expect(['required', 'optional']).toContain(kind);
    }
  });
});
