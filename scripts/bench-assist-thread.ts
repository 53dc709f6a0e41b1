// `npm run bench:assist-thread`: what a suggestion costs the thread that moves messages, with
// the assistant in-process and on its own thread (ASSIST_THREAD). Bench-shaped conversations
// (bench:pipeline's texts, 4,000 buyers, 20 messages kept), asked 8 at a time as a batch job's
// conversations ask; prints, per mode, the wall time per suggestion and the main thread's busy
// time per suggestion (event-loop utilisation). The modes alternate, --rounds times each.
import { performance } from 'node:perf_hooks';
import { ASSIST_THREAD_ENTRY } from '../src/assist/assist-thread-entry';
import { type Assistant, createAssistant } from '../src/assist/assistant';
import { createThreadedAssistant } from '../src/assist/threaded-assistant';
import { benchConversations } from './lib/bench-texts';
import { readOptions, wholeNumber } from './lib/cli-options';

const USAGE = 'npm run bench:assist-thread -- [--rounds 2] [--suggestions 16000]';
const values = readOptions(USAGE, {
  rounds: { type: 'string', default: '2' },
  suggestions: { type: 'string', default: '16000' },
});
const rounds = wholeNumber('rounds', values.rounds, { min: 1, max: 20 }, USAGE);
const count = wholeNumber('suggestions', values.suggestions, { min: 80, max: 1_000_000 }, USAGE);
const BUYERS = 4000;
const settings = { busyNudge: false, locale: 'zh-Hans' as const, linkDomains: [] };

/** Each buyer's conversation so far, shared by both modes: every run continues them. */
const historyAfter = benchConversations(BUYERS);

async function measure(assistant: Assistant, from: number, n: number) {
  const busy = performance.eventLoopUtilization();
  const started = performance.now();
  for (let i = from; i < from + n; i += 8) {
    const calls: Promise<unknown>[] = [];
    for (let j = i; j < i + 8; j += 1) {
      calls.push(assistant.suggest({ history: historyAfter(j), settings }));
    }
    await Promise.all(calls);
  }
  const wall = performance.now() - started;
  const active = performance.eventLoopUtilization(busy).active;
  return { wall: (wall / n) * 1000, main: (active / n) * 1000 };
}

const inProcess = createAssistant();
const threaded = createThreadedAssistant({
  entry: ASSIST_THREAD_ENTRY,
  inProcess: () => inProcess,
});
// Warm both (the thread's start, the engines' memories of the recurring texts).
await measure(inProcess, 0, 4000);
await measure(threaded, 0, 4000);
console.log(`${count} suggestions per run, 8 at a time, ${rounds} round(s) per mode`);
for (let round = 1; round <= rounds; round += 1)
  for (const [name, assistant] of [
    ['in-process', inProcess],
    ['own thread', threaded],
  ] as const) {
    const { wall, main } = await measure(assistant, 4000 + round * count, count);
    console.log(
      `${name.padEnd(10)} round ${round}: ${wall.toFixed(0)} µs wall, ` +
        `${main.toFixed(0)} µs of the main thread per suggestion`,
    );
  }
await threaded.close();
