/** Rewrites src/web/console/live-events.json from the typed event map (run after changing it). */
import fs from 'node:fs';
import { LIVE_EVENT_FIELDS } from '../src/agents/live-events';

fs.writeFileSync(
  'src/web/console/live-events.json',
  `${JSON.stringify(LIVE_EVENT_FIELDS, null, 2)}\n`,
);
console.log('wrote src/web/console/live-events.json');
