import { AsyncLocalStorage } from 'node:async_hooks';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createAssistant } from './assistant';
import type { OpenAIEngineOptions } from './openai-engine';
import type { AssistInput, AssistResult, FallbackReason } from './vocabulary';

/**
 * The assistant's own thread (threaded-assistant.ts starts it): reads and drafts suggestions
 * on a second core, so a worker's main thread only moves messages. The built service runs it
 * from dist/assist-thread.mjs, the sources from this file.
 */

export const ASSIST_THREAD_ROLE = 'seatmate-assist';

export interface AssistThreadData {
  role: typeof ASSIST_THREAD_ROLE;
  openai?: OpenAIEngineOptions;
}

/** The metrics a suggestion reported on the way, replayed by the main thread. */
export type AssistNote =
  | { kind: 'fallback'; reason: FallbackReason }
  | { kind: 'latency'; engine: 'rules' | 'openai'; ms: number };

export interface AssistRequest {
  id: number;
  input: AssistInput;
  /** Set when `input.catalog` is absent because the thread already holds this catalog. */
  catalogKey?: number;
}

export type AssistReply =
  | { id: number; result: AssistResult; notes: AssistNote[] }
  | { id: number; error: string; notes: AssistNote[] };

/**
 * Catalogs the thread holds, by the main thread's key: sent once, not with every suggestion.
 * Full, the thread forgets them all before taking a new one, and the main thread, sending the
 * same calls in the same order, forgets them at the same call.
 */
export const CATALOGS_HELD = 256;

function serve(data: AssistThreadData): void {
  const port = parentPort!;
  const notes = new AsyncLocalStorage<AssistNote[]>();
  const assistant = createAssistant({
    openai: data.openai,
    onFallback: (reason) => notes.getStore()?.push({ kind: 'fallback', reason }),
    onLatency: (engine, ms) => notes.getStore()?.push({ kind: 'latency', engine, ms }),
  });
  const catalogs = new Map<number, NonNullable<AssistInput['catalog']>>();
  // Replies leave together at the end of the turn, as the calls came (one message per turn).
  let outbox: AssistReply[] = [];
  const reply = (message: AssistReply) => {
    if (outbox.length === 0)
      setImmediate(() => {
        port.postMessage(outbox);
        outbox = [];
      });
    outbox.push(message);
  };
  port.on('message', (requests: AssistRequest[]) => {
    for (const request of requests) answer(request);
  });
  const answer = (request: AssistRequest) => {
    const taken: AssistNote[] = [];
    let input = request.input;
    if (request.catalogKey !== undefined) {
      if (input.catalog) {
        if (catalogs.size >= CATALOGS_HELD) catalogs.clear();
        catalogs.set(request.catalogKey, input.catalog);
      } else input = { ...input, catalog: catalogs.get(request.catalogKey) };
    }
    notes
      .run(taken, () => assistant.suggest(input))
      .then(
        (result) => reply({ id: request.id, result, notes: taken }),
        (error: Error) => reply({ id: request.id, error: error.message, notes: taken }),
      );
  };
}

if (!isMainThread && (workerData as AssistThreadData | undefined)?.role === ASSIST_THREAD_ROLE)
  serve(workerData as AssistThreadData);
