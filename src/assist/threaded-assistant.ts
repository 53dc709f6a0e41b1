import { Worker } from 'node:worker_threads';
import {
  ASSIST_THREAD_ROLE,
  type AssistReply,
  type AssistRequest,
  type AssistThreadData,
  CATALOGS_HELD,
} from './assist-thread';
import type { Assistant, AssistantOptions } from './assistant';
import type { AssistInput, AssistResult } from './vocabulary';

/**
 * The assistant on a thread of its own. Reading a conversation and drafting its suggestions is
 * the largest part of a worker's CPU per message (docs/architecture.md, "Round seventeen"); on
 * its own thread it runs on a second core beside the main thread's Redis and queue work.
 *
 * Suggestions come back in whatever order the thread finishes them; each call awaits its own.
 * Should the thread die, the calls it held and every later one are answered in this thread
 * (`inProcess`), and a new thread is started for the calls after that: a suggestion is never
 * lost to the thread.
 */
export interface ThreadedAssistantOptions
  extends Pick<AssistantOptions, 'openai' | 'onFallback' | 'onLatency'> {
  /** The thread's script (assist-thread-entry.ts). */
  entry: URL;
  /** Answers while there is no thread (it died, or is starting again). */
  inProcess: () => Assistant;
  /** Told when the thread stops unexpectedly. */
  onThreadExit?: (detail: string) => void;
  /** After a thread stops, calls are answered in-process this long before a new one starts. */
  restartAfterMs?: number;
}

export interface ThreadedAssistant extends Assistant {
  /** Ends the thread (shutdown); later calls are answered in this thread. */
  close(): Promise<void>;
}

interface Pending {
  input: AssistInput;
  resolve: (result: AssistResult) => void;
  reject: (error: Error) => void;
}

export function createThreadedAssistant(options: ThreadedAssistantOptions): ThreadedAssistant {
  let thread: Worker | null = null;
  let closed = false;
  let nextId = 1;
  const pending = new Map<number, Pending>();
  // The catalogs the current thread holds, mirroring its own bound (assist-thread.ts): a catalog
  // object is sent once per thread, then named by its key.
  const catalogKeys = new WeakMap<object, number>();
  let nextCatalogKey = 1;
  let held = new Set<number>();
  let fallback: Assistant | null = null;
  // A thread that cannot start (or keeps dying) is not started again for every call.
  const restartAfterMs = options.restartAfterMs ?? 5000;
  let lostAt = Number.NEGATIVE_INFINITY;
  const inProcess = () => {
    fallback ??= options.inProcess();
    return fallback;
  };

  // Calls leave together at the end of the turn: a batch job's conversations ask in the same
  // turn, and one message costs the two threads far less than one per call.
  let outbox: AssistRequest[] = [];
  const send = (request: AssistRequest) => {
    if (outbox.length === 0)
      setImmediate(() => {
        const requests = outbox;
        outbox = [];
        thread?.postMessage(requests);
      });
    outbox.push(request);
  };

  const start = (): Worker => {
    const data: AssistThreadData = { role: ASSIST_THREAD_ROLE, openai: options.openai };
    const worker = new Worker(options.entry, { workerData: data });
    // A thread waiting for work does not keep the process alive (close() ends it); one
    // holding calls does, until it has answered them.
    worker.unref();
    worker.on('message', (replies: AssistReply[]) => {
      for (const reply of replies) {
        const call = pending.get(reply.id);
        if (!call) continue;
        pending.delete(reply.id);
        for (const note of reply.notes)
          if (note.kind === 'fallback') options.onFallback?.(note.reason);
          else options.onLatency?.(note.engine, note.ms);
        if ('result' in reply) call.resolve(reply.result);
        else call.reject(new Error(reply.error));
      }
      if (pending.size === 0) worker.unref();
    });
    const lost = (detail: string) => {
      if (thread !== worker) return;
      thread = null;
      held = new Set();
      lostAt = performance.now();
      if (!closed) options.onThreadExit?.(detail);
      // The calls the thread held are answered here; none is lost.
      const calls = [...pending.values()];
      pending.clear();
      for (const call of calls) inProcess().suggest(call.input).then(call.resolve, call.reject);
    };
    worker.on('error', (error) => lost(error.message));
    worker.on('exit', (code) => lost(`exited with code ${code}`));
    return worker;
  };

  return {
    suggest(input) {
      if (closed || (!thread && performance.now() - lostAt < restartAfterMs))
        return inProcess().suggest(input);
      thread ??= start();
      const id = nextId++;
      const request: AssistRequest = { id, input };
      if (input.catalog) {
        let key = catalogKeys.get(input.catalog);
        if (key === undefined) catalogKeys.set(input.catalog, (key = nextCatalogKey++));
        request.catalogKey = key;
        if (held.has(key)) request.input = { ...input, catalog: undefined };
        else {
          if (held.size >= CATALOGS_HELD) held = new Set();
          held.add(key);
        }
      }
      if (pending.size === 0) thread.ref();
      return new Promise<AssistResult>((resolve, reject) => {
        pending.set(id, { input, resolve, reject });
        send(request);
      });
    },
    async close() {
      closed = true;
      const worker = thread;
      thread = null;
      if (worker) await worker.terminate();
      const calls = [...pending.values()];
      pending.clear();
      for (const call of calls) inProcess().suggest(call.input).then(call.resolve, call.reject);
    },
  };
}
