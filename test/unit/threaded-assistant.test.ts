import { afterEach, describe, expect, it } from 'vitest';
import { CATALOGS_HELD } from '../../src/assist/assist-thread';
import { ASSIST_THREAD_ENTRY } from '../../src/assist/assist-thread-entry';
import { type Assistant, type AssistInput, createAssistant } from '../../src/assist/assistant';
import {
  createThreadedAssistant,
  type ThreadedAssistant,
  type ThreadedAssistantOptions,
} from '../../src/assist/threaded-assistant';
import type { AssistResult } from '../../src/assist/vocabulary';
import { cardiganCatalog, HESITATING_HISTORY } from '../fixtures/assist/hesitating-buyer';

const CRASHING_ENTRY = new URL('../fixtures/assist/crashing-assist-thread.mjs', import.meta.url);
const FORGETFUL_ENTRY = new URL('../fixtures/assist/forgetful-assist-thread.mjs', import.meta.url);
const FAILING_ENTRY = new URL('../fixtures/assist/failing-assist-thread.mjs', import.meta.url);
const SILENT_ENTRY = new URL('../fixtures/assist/silent-assist-thread.mjs', import.meta.url);
const settings = { busyNudge: false, locale: 'zh-Hans' as const, linkDomains: [] };

const conversations: AssistInput[] = [
  { history: [{ from: 'buyer', text: '您好，这款有灰色吗？' }], settings },
  {
    history: [
      { from: 'buyer', text: 'Is this available in size M?' },
      { from: 'agent', text: 'Yes, M is in stock.' },
      { from: 'buyer', text: 'How long does shipping take to Shanghai?' },
    ],
  },
  {
    history: [
      { from: 'buyer', text: '这款开衫有浅灰色吗？' },
      { from: 'agent', text: '您好，有的，浅灰和银色都有现货。' },
      { from: 'buyer', text: '嗯……我再考虑一下吧' },
    ],
    catalog: cardiganCatalog(),
  },
  { history: [{ from: 'buyer', text: '收到的衣服破了一个洞，怎么处理？' }], settings },
];

/** A result without its suggestions' random ids. */
const withoutIds = (result: AssistResult) => ({
  ...result,
  suggestions: result.suggestions.map(({ text, tactic }) => ({ text, tactic })),
});

/**
 * What a threaded assistant did besides its thread: the calls its in-process assistant
 * answered, the thread losses it told and the reasons it gave for answering here.
 */
function observed() {
  const counter = { calls: 0 };
  const exits: string[] = [];
  const reasons: string[] = [];
  const local = createAssistant();
  const assistant: Assistant = {
    suggest(input) {
      counter.calls += 1;
      return local.suggest(input);
    },
  };
  const options = {
    inProcess: () => assistant,
    onThreadExit: (detail: string) => exits.push(detail),
    onInProcess: (reason: string) => reasons.push(reason),
  } satisfies Partial<ThreadedAssistantOptions>;
  return { counter, exits, reasons, options };
}

const open: ThreadedAssistant[] = [];
function threaded(
  seen: ReturnType<typeof observed>,
  options: Partial<ThreadedAssistantOptions> = {},
) {
  const assistant = createThreadedAssistant({
    entry: ASSIST_THREAD_ENTRY,
    ...seen.options,
    ...options,
  });
  open.push(assistant);
  return assistant;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((assistant) => assistant.close()));
});

describe('the assistant on its own thread', () => {
  it('suggests what the in-process assistant suggests, without answering in-process', async () => {
    const seen = observed();
    const assistant = threaded(seen);
    const local = createAssistant();
    // Asked together, as a batch job's conversations ask: they leave in one message.
    const answers = await Promise.all(conversations.map((input) => assistant.suggest(input)));
    for (const [i, input] of conversations.entries()) {
      const answer = answers[i]!;
      expect(withoutIds(answer)).toEqual(withoutIds(await local.suggest(input)));
      expect(answer.suggestions.length).toBeGreaterThan(0);
      expect(new Set(answer.suggestions.map((s) => s.id)).size).toBe(answer.suggestions.length);
    }
    expect(seen.counter.calls).toBe(0);
  });

  it('answers a large batch as it drafts it, not all at its end', async () => {
    const seen = observed();
    const assistant = threaded(seen);
    await assistant.ready();
    // 200 calls in one turn: several ms of drafting on any machine. Answers leave in slices,
    // so the first is back well before the last; drafted in one go, all would arrive together.
    const answeredAt: number[] = [];
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        assistant
          .suggest(conversations[i % conversations.length]!)
          .then(() => answeredAt.push(performance.now())),
      ),
    );
    expect(answeredAt.length).toBe(200);
    expect(answeredAt.at(-1)! - answeredAt[0]!).toBeGreaterThan(1);
    expect(seen.counter.calls).toBe(0);
  });

  it('reads a catalog sent once, and every catalog past what the thread holds', async () => {
    const seen = observed();
    const assistant = threaded(seen);
    const local = createAssistant();
    const asks = (c: AssistInput['catalog']): AssistInput => ({
      history: HESITATING_HISTORY,
      catalog: c,
    });
    const first = cardiganCatalog();
    // The first catalog is sent, then named; then more catalogs than the thread holds, so it
    // forgets them all once; the first is sent again when it comes back.
    const catalogs = [
      first,
      first,
      ...Array.from({ length: CATALOGS_HELD + 1 }, (_, i) => cardiganCatalog([`色${i}`, `款${i}`])),
      first,
    ];
    for (const c of catalogs) {
      const answer = await assistant.suggest(asks(c));
      expect(withoutIds(answer)).toEqual(withoutIds(await local.suggest(asks(c))));
    }
    // The catalog's own values reach the close: the thread read the catalog, not none.
    const close = (await assistant.suggest(asks(first))).suggestions.find(
      (s) => s.tactic === 'alternative_close',
    );
    expect(close?.text).toMatch(/浅灰|银色/);
    const none = await local.suggest(asks(undefined));
    expect(withoutIds(none)).not.toEqual(withoutIds(await assistant.suggest(asks(first))));
    expect(seen.counter.calls).toBe(0);
  });

  it("reports the thread's fallbacks and latencies where the process keeps its metrics", async () => {
    const latencies: string[] = [];
    const assistant = threaded(observed(), {
      onLatency: (engine, ms) => {
        expect(ms).toBeGreaterThanOrEqual(0);
        latencies.push(engine);
      },
    });
    await Promise.all(conversations.map((input) => assistant.suggest(input)));
    expect(latencies).toEqual(conversations.map(() => 'rules'));
  });

  it('answers in-process when the thread dies, and starts a new thread after the pause', async () => {
    const seen = observed();
    const assistant = threaded(seen, { entry: CRASHING_ENTRY, restartAfterMs: 300 });
    const crash: AssistInput = { history: [{ from: 'buyer', text: 'CRASH THE THREAD' }], settings };
    // The crashing call and the one sent with it are both answered, here.
    const [crashed, beside] = await Promise.all([
      assistant.suggest(crash),
      assistant.suggest(conversations[0]!),
    ]);
    expect(crashed.suggestions.length).toBeGreaterThan(0);
    expect(beside.suggestions.length).toBeGreaterThan(0);
    expect(seen.counter.calls).toBe(2);
    expect(seen.exits).toEqual(['exited with code 3']);
    // Within the pause, calls are answered here without a new thread.
    await assistant.suggest(conversations[1]!);
    expect(seen.counter.calls).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 350));
    // After it, a new thread answers.
    const again = await assistant.suggest(conversations[2]!);
    expect(again.engine).toBe('rules');
    expect(seen.counter.calls).toBe(3);
    expect(seen.exits).toHaveLength(1);
  });

  it('answers here a call naming a catalog the thread does not hold, and sends it again', async () => {
    const seen = observed();
    const assistant = threaded(seen, { entry: FORGETFUL_ENTRY });
    const input: AssistInput = { ...conversations[2]! };
    const texts = async () => (await assistant.suggest(input)).suggestions.map((s) => s.text);
    // Sent with its catalog the first time; named by key only the second, which the thread
    // does not hold: that call is answered in-process, with the catalog.
    expect(await texts()).toEqual(['catalog:true forget:false']);
    const second = await assistant.suggest(input);
    expect(seen.counter.calls).toBe(1);
    expect(withoutIds(second)).toEqual(withoutIds(await createAssistant().suggest(input)));
    // The next call tells the thread to forget every catalog and carries its own again.
    expect(await texts()).toEqual(['catalog:true forget:true']);
    expect(seen.counter.calls).toBe(1);
  });

  it('is ready once the thread has built its assistant, and says why not when it cannot', async () => {
    await threaded(observed()).ready();
    const seen = observed();
    const broken = threaded(seen, { entry: FAILING_ENTRY });
    // The container awaits this at start: the start fails with the thread's reason.
    await expect(broken.ready()).rejects.toThrow('reader.json: Unexpected end of JSON input');
    expect(seen.exits).toEqual(['could not start: reader.json: Unexpected end of JSON input']);
    // Calls are answered here meanwhile, and counted as such.
    expect((await broken.suggest(conversations[0]!)).suggestions.length).toBeGreaterThan(0);
    expect(seen.counter.calls).toBe(1);
    expect(seen.reasons).toEqual(['thread_away']);
  });

  it('gives up on a thread that stops answering, and answers its calls here', async () => {
    const seen = observed();
    const assistant = threaded(seen, { entry: SILENT_ENTRY, stuckAfterMs: 300 });
    await assistant.ready();
    const answer = await assistant.suggest(conversations[3]!);
    expect(answer.suggestions.length).toBeGreaterThan(0);
    expect(seen.counter.calls).toBe(1);
    expect(seen.exits).toEqual(['a call went unanswered for 300 ms']);
  });

  it('answers the calls in flight here when closed', async () => {
    const seen = observed();
    const assistant = threaded(seen, { entry: SILENT_ENTRY });
    await assistant.ready();
    const inFlight = assistant.suggest(conversations[0]!);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await assistant.close();
    expect((await inFlight).suggestions.length).toBeGreaterThan(0);
    expect(seen.counter.calls).toBe(1);
    expect(seen.reasons).toEqual(['closed']);
  });

  it('answers in-process after close, and ends its thread', async () => {
    const seen = observed();
    const assistant = threaded(seen);
    await assistant.suggest(conversations[0]!);
    expect(seen.counter.calls).toBe(0);
    await assistant.close();
    const after = await assistant.suggest(conversations[1]!);
    expect(after.suggestions.length).toBeGreaterThan(0);
    expect(seen.counter.calls).toBe(1);
    // A thread ended by close is not reported as lost.
    expect(seen.exits).toEqual([]);
  });
});
