import { Worker } from 'node:worker_threads';
import {
  ASSIST_THREAD_ROLE,
  type AssistReply,
  type AssistRequest,
  type AssistThreadData,
  type AssistThreadStatus,
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
 * The thread is a speed-up, never a dependency: should it die, fail to start, stop answering or
 * refuse a call, the calls it held are answered in this thread (`inProcess`), and so is every
 * call for `restartAfterMs`; then a new thread is started.
 */
export interface ThreadedAssistantOptions
  extends Pick<AssistantOptions, 'openai' | 'onFallback' | 'onLatency'> {
  /** The thread's script (assist-thread-entry.ts). */
  entry: URL;
  /** Answers while there is no thread (it died, or is starting again). */
  inProcess: () => Assistant;
  /** Told when the thread stops, fails to start or is given up on; never after close(). */
  onThreadExit?: (detail: string) => void;
  /** Told of each call answered in-process because of the thread, with why. */
  onInProcess?: (reason: InProcessReason) => void;
  /** After a thread stops, calls are answered in-process this long before a new one starts. */
  restartAfterMs?: number;
  /** A call the thread has not answered in this long means it hangs: it is ended. */
  stuckAfterMs?: number;
}

/** Why a call was answered on the main thread. */
export type InProcessReason = 'thread_lost' | 'thread_away' | 'catalog_missing' | 'closed';

export interface ThreadedAssistant extends Assistant {
  /** Starts the thread now; resolves once its assistant is built, rejects with why it failed. */
  ready(): Promise<void>;
  /** Ends the thread (shutdown); later calls are answered in this thread. */
  close(): Promise<void>;
}

interface Pending {
  input: AssistInput;
  resolve: (result: AssistResult) => void;
  reject: (error: Error) => void;
  /** When it was asked (performance.now()). */
  at: number;
}

/** Node's worker limits for the thread: a runaway heap ends the thread, not the process. */
const THREAD_HEAP_MB = 512;

export function createThreadedAssistant(options: ThreadedAssistantOptions): ThreadedAssistant {
  const restartAfterMs = options.restartAfterMs ?? 5000;
  const stuckAfterMs = options.stuckAfterMs ?? 60_000;
  let thread: Worker | null = null;
  let started: Promise<void> | null = null;
  let closed = false;
  // A thread that cannot start (or keeps dying) is not started again for every call.
  let lostAt = Number.NEGATIVE_INFINITY;
  let nextId = 1;
  const pending = new Map<number, Pending>();
  // The catalogs the current thread holds, mirroring its own bound (assist-thread.ts): a catalog
  // object is sent once per thread, then named by its key.
  const catalogKeys = new WeakMap<object, number>();
  let nextCatalogKey = 1;
  let held = new Set<number>();
  // Set when the thread named a catalog it did not hold: the next call tells it to forget
  // them all, and both count from nothing again.
  let forgetCatalogs = false;
  let fallback: Assistant | null = null;

  /** A call answered here. A throw (the assistant cannot be built) becomes the call's failure. */
  const answerHere = (input: AssistInput, reason: InProcessReason): Promise<AssistResult> => {
    options.onInProcess?.(reason);
    return Promise.resolve().then(() => {
      fallback ??= options.inProcess();
      return fallback.suggest(input);
    });
  };
  const settle = (id: number): Pending | undefined => {
    const call = pending.get(id);
    if (!call) return undefined;
    pending.delete(id);
    return call;
  };
  const answerAllHere = (reason: InProcessReason) => {
    for (const id of [...pending.keys()]) {
      const call = settle(id)!;
      answerHere(call.input, reason).then(call.resolve, call.reject);
    }
  };

  // Calls leave together at the end of the turn: a batch job's conversations ask in the same
  // turn, and one message costs the two threads far less than one per call.
  let outbox: AssistRequest[] = [];
  const send = (request: AssistRequest) => {
    if (outbox.length === 0)
      setImmediate(() => {
        const requests = outbox;
        outbox = [];
        if (requests.length === 0 || !thread) return;
        try {
          thread.postMessage(requests);
        } catch (error) {
          // A call the thread cannot be sent (it holds something that cannot be copied): those
          // calls are answered here, and the thread counts no catalog from them.
          held = new Set();
          forgetCatalogs = true;
          for (const request of requests) {
            const call = settle(request.id);
            if (call) answerHere(call.input, 'thread_away').then(call.resolve, call.reject);
          }
          options.onThreadExit?.(`a call could not be sent: ${(error as Error).message}`);
        }
      });
    outbox.push(request);
  };

  /** The thread is gone (or given up on): its calls are answered here, none is lost. */
  const lose = (worker: Worker, detail: string) => {
    if (thread !== worker) return;
    thread = null;
    started = null;
    held = new Set();
    // Calls not yet sent are among the pending ones answered below: they must not reach a
    // later thread, which never held their catalogs.
    outbox = [];
    lostAt = performance.now();
    void worker.terminate();
    if (!closed) options.onThreadExit?.(detail);
    answerAllHere('thread_lost');
  };

  const onReplies = (worker: Worker, replies: AssistReply[]) => {
    for (const reply of replies) {
      const call = settle(reply.id);
      if (!call) continue;
      if ('result' in reply) call.resolve(reply.result);
      else if ('error' in reply) call.reject(new Error(reply.error));
      else {
        held = new Set();
        forgetCatalogs = true;
        answerHere(call.input, 'catalog_missing').then(call.resolve, call.reject);
      }
      // After the call is settled: a metrics callback that throws cannot strand the others.
      try {
        for (const note of reply.notes)
          if (note.kind === 'fallback') options.onFallback?.(note.reason);
          else options.onLatency?.(note.engine, note.ms);
      } catch {
        // The figures are lost, the suggestion is not.
      }
    }
    if (pending.size === 0) worker.unref();
  };

  const start = (): Promise<void> => {
    const data: AssistThreadData = {
      role: ASSIST_THREAD_ROLE,
      openai: options.openai,
    };
    let worker: Worker;
    try {
      worker = new Worker(options.entry, {
        workerData: data,
        resourceLimits: { maxOldGenerationSizeMb: THREAD_HEAP_MB },
      });
    } catch (error) {
      lostAt = performance.now();
      options.onThreadExit?.(`could not start: ${(error as Error).message}`);
      return Promise.reject(error);
    }
    thread = worker;
    // A thread waiting for work does not keep the process alive (close() ends it); one
    // holding calls does, until it has answered them.
    worker.unref();
    // One watch per thread, not a timer per call: the oldest call still pending (the map keeps
    // calls in the order they were asked) tells whether the thread still answers.
    const watch = setInterval(
      () => {
        const oldest = pending.values().next().value;
        if (oldest && performance.now() - oldest.at >= stuckAfterMs)
          lose(worker, `a call went unanswered for ${stuckAfterMs} ms`);
      },
      Math.min(stuckAfterMs, 1000),
    );
    watch.unref();
    worker.once('exit', () => clearInterval(watch));
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (message: AssistReply[] | AssistThreadStatus) => {
        if (Array.isArray(message)) return onReplies(worker, message);
        if (message.kind === 'ready') return resolve();
        reject(new Error(message.error));
        lose(worker, `could not start: ${message.error}`);
      });
      const gone = (detail: string) => {
        reject(new Error(detail));
        lose(worker, detail);
      };
      worker.on('error', (error) => gone(error.message));
      worker.on('messageerror', (error) => gone(`a reply could not be read: ${error.message}`));
      worker.on('exit', (code) => gone(`exited with code ${code}`));
    });
  };
  /** The thread, started if there is none; null while calls are answered here. */
  const current = (): Worker | null => {
    if (closed) return null;
    if (!thread && performance.now() - lostAt >= restartAfterMs) {
      started = start();
      // A failure is told through onThreadExit and answered here; ready() hands it on.
      started.catch(() => {});
    }
    return thread;
  };

  return {
    ready() {
      current();
      return started ?? Promise.reject(new Error('the assist thread is away'));
    },
    suggest(input) {
      const worker = current();
      if (!worker) return answerHere(input, closed ? 'closed' : 'thread_away');
      const id = nextId++;
      const request: AssistRequest = { id, input };
      if (forgetCatalogs) {
        request.forgetCatalogs = true;
        forgetCatalogs = false;
      }
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
      if (pending.size === 0) worker.ref();
      return new Promise<AssistResult>((resolve, reject) => {
        pending.set(id, { input, resolve, reject, at: performance.now() });
        send(request);
      });
    },
    async close() {
      closed = true;
      const worker = thread;
      thread = null;
      outbox = [];
      if (worker) await worker.terminate();
      answerAllHere('closed');
    },
  };
}
