import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CONSOLE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../src/web/console',
);
/** The typed live-event map (src/agents/live-events.ts) as JSON: {event: {field: "required" | "optional"}}. */
const EVENTS: Record<string, Record<string, string>> = JSON.parse(
  fs.readFileSync(path.join(CONSOLE, 'live-events.json'), 'utf8'),
);

/** Each handler of console.js's EVENT_HANDLERS and the `data.<field>` it reads. */
function handlers(): Map<string, Set<string>> {
  const source = fs.readFileSync(path.join(CONSOLE, 'console.js'), 'utf8');
  const start = source.indexOf('const EVENT_HANDLERS = {');
  const end = source.indexOf('\n};', start);
  expect(start).toBeGreaterThan(0);
  const block = source.slice(start, end);
  const out = new Map<string, Set<string>>();
  let current: Set<string> | null = null;
  for (const line of block.split('\n')) {
    const head = /^ {2}(\w+)\((?:data)?\) \{/.exec(line);
    if (head) out.set(head[1]!, (current = new Set()));
    for (const m of line.matchAll(/\bdata\.(\w+)/g)) current?.add(m[1]!);
  }
  return out;
}

describe('the live events the console reads', () => {
  it('are events of the typed map (reset aside: the stream itself sends it)', () => {
    const names = [...handlers().keys()];
    expect(names.length).toBeGreaterThanOrEqual(6);
    expect(names.filter((name) => name !== 'reset' && !(name in EVENTS))).toEqual([]);
  });

  it('read only fields the map declares for that event, so a renamed field fails here', () => {
    const unknown: string[] = [];
    for (const [event, fields] of handlers()) {
      for (const field of fields)
        if (!(field in (EVENTS[event] ?? {}))) unknown.push(`${event}.${field}`);
    }
    expect(unknown).toEqual([]);
  });

  it('cover what the console needs: transfers carry the note and the sender, presence its agent', () => {
    const read = handlers();
    expect([...read.get('conversation')!]).toEqual(
      expect.arrayContaining(['change', 'agentId', 'fromAgentId', 'fromAgentName', 'note']),
    );
    expect([...read.get('presence')!]).toEqual(expect.arrayContaining(['agentId', 'status']));
    expect(EVENTS.conversation).toMatchObject({ note: 'optional', fromAgentName: 'optional' });
  });
});
