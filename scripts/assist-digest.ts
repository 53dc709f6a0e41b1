// `npm run assist:digest`: one digest over everything the built-in assistant answers, so a
// change meant to make it faster can show it changed no answer. It asks about every corpus
// conversation (every split), both blind sets and bench:pipeline-shaped conversations (1,000
// buyers, their histories growing message by message), and prints a SHA-256 per part, with
// the suggestions' random ids and timings left out. The same code gives the same digests on
// every run; compare a change's digests with its parent's.
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createAssistant } from '../src/assist/assistant';
import {
  assistInputOf,
  BLIND10_SET_NAME,
  BLIND10_SET_URL,
  loadBlindSet,
  loadCorpus,
} from '../src/assist/corpus';
import { benchConversations } from './lib/bench-texts';
import { readOptions, wholeNumber } from './lib/cli-options';
import { progressBar } from './lib/progress-bar';

const USAGE = 'npm run assist:digest -- [--bench-messages 8000]';
const values = readOptions(USAGE, { 'bench-messages': { type: 'string', default: '8000' } });
const benchMessages = wholeNumber(
  'bench-messages',
  values['bench-messages'],
  { min: 1, max: 1_000_000 },
  USAGE,
);

const assistant = createAssistant();
/** What an answer says, without what differs from run to run (random ids, timings). */
const stable = (answer: unknown) =>
  JSON.stringify(answer, (key, value) =>
    key === 'id' || key === 'latencyMs' || key === 'ms' ? undefined : value,
  );

const items = [
  ...loadCorpus(),
  loadBlindSet(),
  loadBlindSet(BLIND10_SET_URL, BLIND10_SET_NAME),
].flatMap((batch) => batch.items);
let hash = createHash('sha256');
let started = performance.now();
const corpusProgress = progressBar('corpus and blind sets');
for (const [i, item] of items.entries()) {
  hash.update(stable(await assistant.suggest(assistInputOf(item))));
  corpusProgress.update(i + 1, items.length);
}
console.log(
  `corpus and blind sets, ${items.length} conversations: ${hash.digest('hex')} ` +
    `(${(((performance.now() - started) / items.length) * 1000).toFixed(0)} µs each)`,
);

hash = createHash('sha256');
started = performance.now();
const benchProgress = progressBar('bench-shaped');
const historyAfter = benchConversations(1000);
const settings = { busyNudge: false, locale: 'zh-Hans' as const, linkDomains: [] };
for (let n = 0; n < benchMessages; n += 1) {
  hash.update(stable(await assistant.suggest({ history: historyAfter(n), settings })));
  benchProgress.update(n + 1, benchMessages);
}
console.log(
  `bench-shaped, ${benchMessages} messages: ${hash.digest('hex')} ` +
    `(${(((performance.now() - started) / benchMessages) * 1000).toFixed(0)} µs each)`,
);
