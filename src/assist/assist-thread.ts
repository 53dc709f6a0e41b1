import { AsyncLocalStorage } from 'node:async_hooks';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createAssistant } from './assistant';
import type { OpenAIEngineOptions } from './openai-engine';
import type { AssistInput, AssistResult, FallbackReason } from './vocabulary';

/**
 * The assistant's own thread (threaded-assistant.ts starts it): reads and drafts suggestions
 * on a second core, so a worker's main thread only moves messages. The built service runs it
 * from its own build (assist-thread-entry.ts), the sources from this file.
 */

export const ASSIST_THREAD_ROLE = 'seatmate-assist';

export interface AssistThreadData {
  role: typeof ASSIST_THREAD_ROLE;
  openai?: OpenAIEngineOptions;
}

/** The thread's first word: its assistant is built (models and prompts read), or why not. */
export type AssistThreadStatus = { kind: 'ready' } | { kind: 'failed'; error: string };

/** The metrics a suggestion reported on the way, replayed by the main thread. */
export type AssistNote =
  | { kind: 'fallback'; reason: FallbackReason }
  | { kind: 'latency'; engine: 'rules' | 'openai'; ms: number };

export interface AssistRequest {
  id: number;
  input: AssistInput;
  /** The catalog's key: with `input.catalog` to hold it by, without it to name it. */
  catalogKey?: number;
  /** Forget every catalog held before this call (the main thread starts its count again). */
  forgetCatalogs?: true;
}

export type AssistReply =
  | { id: number; result: AssistResult; notes: AssistNote[] }
  | { id: number; error: string; notes: AssistNote[] }
  /** Named a catalog this thread does not hold: answered by the main thread instead. */
  | { id: number; catalogMissing: true; notes: AssistNote[] };

/**
 * Catalogs the thread holds, by the main thread's key: sent once, not with every suggestion.
 * Full, the thread forgets them all before taking a new one, and the main thread, sending the
 * same calls in the same order, forgets them at the same call.
 */
export const CATALOGS_HELD = 256;

/** How long the thread drafts before it sends the replies it has (ms). */
const SLICE_MS = 2;

function serve(data: AssistThreadData): void {
  const port = parentPort!;
  const status = (message: AssistThreadStatus) => port.postMessage(message);
  const notes = new AsyncLocalStorage<AssistNote[]>();
  let assistant: ReturnType<typeof createAssistant>;
  try {
    assistant = createAssistant({
      openai: data.openai,
      onFallback: (reason) => notes.getStore()?.push({ kind: 'fallback', reason }),
      onLatency: (engine, ms) => notes.getStore()?.push({ kind: 'latency', engine, ms }),
    });
  } catch (error) {
    status({ kind: 'failed', error: messageOf(error) });
    return;
  }
  status({ kind: 'ready' });
  const catalogs = new Map<number, NonNullable<AssistInput['catalog']>>();
  // Replies leave together, one message for several: at the end of each slice of calls below,
  // or at the end of the turn for a reply that came later (a model's answer).
  let outbox: AssistReply[] = [];
  let flushQueued = false;
  const flush = () => {
    flushQueued = false;
    if (outbox.length === 0) return;
    const sending = outbox;
    outbox = [];
    port.postMessage(sending);
  };
  const reply = (message: AssistReply) => {
    outbox.push(message);
    if (!flushQueued) {
      flushQueued = true;
      setImmediate(flush);
    }
  };
  // Calls are answered in slices of about SLICE_MS, each slice's replies sent as it ends: a
  // batch of calls drafted in one go would hold its first answer until its last was drafted
  // (at 1,000 msg/s, batches of ten and more, half a millisecond each).
  const pendingCalls: AssistRequest[] = [];
  let draining = false;
  const drain = () => {
    const started = performance.now();
    while (pendingCalls.length > 0 && performance.now() - started < SLICE_MS)
      answer(pendingCalls.shift()!);
    // After the slice's own replies (already queued as microtasks, when drafted without awaiting).
    queueMicrotask(flush);
    if (pendingCalls.length > 0) setImmediate(drain);
    else draining = false;
  };
  port.on('message', (requests: AssistRequest[]) => {
    pendingCalls.push(...requests);
    if (!draining) {
      draining = true;
      drain();
    }
  });
  const answer = (request: AssistRequest) => {
    const taken: AssistNote[] = [];
    let input = request.input;
    if (request.forgetCatalogs) catalogs.clear();
    if (request.catalogKey !== undefined) {
      if (input.catalog) {
        if (catalogs.size >= CATALOGS_HELD) catalogs.clear();
        catalogs.set(request.catalogKey, input.catalog);
      } else {
        const catalog = catalogs.get(request.catalogKey);
        // Never a suggestion read without the shop's catalog: the main thread answers it.
        if (!catalog) {
          reply({ id: request.id, catalogMissing: true, notes: taken });
          return;
        }
        input = { ...input, catalog };
      }
    }
    notes
      .run(taken, () => assistant.suggest(input))
      .then(
        (result) => reply({ id: request.id, result, notes: taken }),
        (error: unknown) => reply({ id: request.id, error: messageOf(error), notes: taken }),
      );
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

if (!isMainThread && (workerData as AssistThreadData | undefined)?.role === ASSIST_THREAD_ROLE)
  serve(workerData as AssistThreadData);
