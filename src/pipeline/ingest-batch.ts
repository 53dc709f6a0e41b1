import { createRequire } from 'node:module';
import { Job, type JobsOptions, type Queue } from 'bullmq';
import { Command, type Redis } from 'ioredis';
import { Packr } from 'msgpackr';
import { defineScript } from '../shared/redis-scripts';
import { DEDUPE_TTL_SECONDS } from './delivery-dedupe';
import type { InboundJob } from './queues';

/**
 * Ingest on one Redis in one command for many webhooks: the deliveries that
 * gather while the previous call is out (see IngestBatches) are rate-limited,
 * checked for redeliveries and queued by one script call, in arrival order. Each delivery
 * is still judged on its own (its shop's window, its events' dedupe keys and
 * job ids), and its jobs are in Redis before its answer, as with one call each.
 *
 * The script runs BullMQ's own add code (the Lua that `Queue.add` runs, taken
 * from the installed BullMQ, with the arguments BullMQ's `Job` builds for it),
 * so a job is stored exactly as `Queue.add` stores it. A Cluster cannot do
 * this (the shop's keys and the queue live in different slots): there ingest
 * makes two round trips (see WebhookIngest).
 */

interface BullScript {
  content: string;
  keys: number;
}
// The installed BullMQ's scripts, as its own connection loads them.
const bullScripts = createRequire(import.meta.url)('bullmq/dist/cjs/scripts/index.js') as Record<
  string,
  BullScript
>;
// Both add scripts take their queue's 9 keys and three arguments (packed args, data, packed
// options); a BullMQ that changed that must fail here, not store malformed jobs.
function addScript(name: string): BullScript {
  const script = bullScripts[name];
  if (script?.keys !== 9)
    throw new Error(`BullMQ's ${name} changed shape: review src/pipeline/ingest-batch.ts`);
  return script;
}
const STANDARD = addScript('addStandardJob');
const PRIORITIZED = addScript('addPrioritizedJob');

/**
 * A call is sent once it carries this many events, so one call holds Redis
 * for a millisecond or two at most (a delivery of more events, up to a
 * platform's cap of 1,000, goes alone).
 */
const MAX_BATCH_EVENTS = 128;
/**
 * A call with this many events goes at the end of the turn, spacing or not:
 * the per-call saving is had, and waiting would only hold the senders (a
 * closed loop of a few dozen senders would otherwise be held to one call per
 * spacing).
 */
const SEND_AT_ONCE_EVENTS = 16;

/**
 * KEYS: the standard add's 9 queue keys, the prioritized add's 9, then per
 * delivery its shop's rate key followed by, per event, its dedupe key and its
 * job key. ARGV: window ms, events per window, fair share, largest priority,
 * dedupe key ttl (s), then per delivery its weight, event count and ingest id
 * followed by, per event, BullMQ's three add arguments. Returns per delivery
 * the window's count before it, the window's ttl when refused (else -1), then
 * per event 0 (a redelivery: the dedupe key is there), 1 (queued by this call)
 * or 2 (its job is still queued: absorbed).
 *
 * The dedupe key is written here, with the job, in the delivery's name (its
 * ingest id): the job and its mark exist together or not at all, so no later
 * copy of the event can be queued and the worker need not write the mark
 * (`InboundJob.marked`; one Redis command and one round trip less per message).
 */
const INGEST_BATCH_SCRIPT = defineScript<Array<number[]>>(
  'ingestBatch',
  `
local function addStandardJob(KEYS, ARGV)
${STANDARD.content}
end
local function addPrioritizedJob(KEYS, ARGV)
${PRIORITIZED.content}
end
local standardKeys = {unpack(KEYS, 1, 9)}
local prioritizedKeys = {unpack(KEYS, 10, 18)}
local window = ARGV[1]
local limit, share, maxPriority = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local dedupeTtl = ARGV[5]
local out = {}
local k, a = 19, 6
while a <= #ARGV do
  local weight, events, token = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), ARGV[a + 2]
  a = a + 3
  local rateKey = KEYS[k]
  k = k + 1
  local count = redis.call('INCRBY', rateKey, weight)
  if count == weight then redis.call('PEXPIRE', rateKey, window) end
  local before = count - weight
  local answer = {before, -1}
  if before >= limit then
    -- Refused whole: the window's remaining time is only needed now (Retry-After).
    answer[2] = redis.call('PTTL', rateKey)
    k = k + 2 * events
    a = a + 3 * events
  else
    for i = 1, events do
      local seenKey, jobKey = KEYS[k], KEYS[k + 1]
      local jobArgs, data, opts = ARGV[a], ARGV[a + 1], ARGV[a + 2]
      k = k + 2
      a = a + 3
      if redis.call('EXISTS', jobKey) == 1 then
        answer[i + 2] = 2
      elseif not redis.call('SET', seenKey, token, 'EX', dedupeTtl, 'NX') then
        answer[i + 2] = 0
      else
        -- The shop's rank-th event this minute: past its fair share, one priority tier per share.
        local rank = before + i
        local added, failure = pcall(function()
          if rank <= share then
            addStandardJob(standardKeys, {jobArgs, data, opts})
          else
            local options = cmsgpack.unpack(opts)
            options['priority'] = math.min(maxPriority, math.ceil((rank - share) / share))
            addPrioritizedJob(prioritizedKeys, {jobArgs, data, cmsgpack.pack(options)})
          end
        end)
        if not added then
          -- A script's writes are not undone by its error: the mark must not outlive an add
          -- that failed, or the platform's retry of this 503 would be taken for a redelivery.
          redis.call('DEL', seenKey)
          error(failure)
        end
        answer[i + 2] = 1
      end
    end
  end
  out[#out + 1] = answer
end
return out
`,
);

/** What the script says about one delivery. */
export interface BatchVerdict {
  /** Events counted in the shop's window before this delivery. */
  before: number;
  /** The window's remaining ms when the delivery was refused, else -1. */
  ttlMs: number;
  /** Per event: 0 a redelivery, 1 queued by this delivery, 2 absorbed by its still-queued job. */
  outcomes: number[];
}

export interface BatchDelivery {
  rateKey: string;
  /** Events counted against the window (at least 1). */
  weight: number;
  /** The request's id: its jobs' `ingestId`, and the name its dedupe marks are written in. */
  ingestId: string;
  events: Array<{ seenKey: string; name: string; data: InboundJob; jobId: string }>;
}

interface Batch {
  deliveries: Pending[];
  events: number;
}

/** A queue's calls: the one being gathered, whether one is out at Redis, when the last left. */
interface Lane {
  open: Batch | null;
  /** The open batch's flush after the spacing, when one is pending. */
  timer: NodeJS.Timeout | null;
  /** The open batch's flush at the end of this turn is pending. */
  immediate: boolean;
  inFlight: number;
  /** performance.now() when the last call left (-Infinity before the first). */
  lastSent: number;
}

interface Pending {
  keys: string[];
  args: Array<string | number | Buffer>;
  resolve: (verdict: BatchVerdict) => void;
  reject: (error: unknown) => void;
}

interface QueueKeys {
  standard: string[];
  prioritized: string[];
  /** BullMQ's three add arguments for a job of this queue (see AddArguments). */
  addArguments: AddArguments;
}

/** A stand-in client that keeps the script call BullMQ's `Job.addJob` would make. */
function captureAdd(queue: Queue<InboundJob>, job: Job<InboundJob>): unknown[] {
  let sent: unknown[] | undefined;
  const client = {
    runCommand: (_command: string, args: unknown[]) => {
      sent = args;
      return Promise.resolve('');
    },
  };
  void job.addJob(client as never).catch(() => undefined);
  if (!sent) throw new Error(`BullMQ did not build an add for queue ${queue.name}`);
  return sent;
}

// BullMQ's own packer settings (bullmq/dist/cjs/classes/scripts.js), so the bytes are the same.
const packer = new Packr({ useRecords: false, encodeUndefinedAsNil: true });

/**
 * BullMQ's three add arguments for a job of one queue (packed arguments, data, packed options),
 * built as `Job.addJob` builds them but without a `Job` per event: a `Job` sets up some twenty
 * fields, its scripts and a promise, and re-encodes options that are the same for every job of
 * the queue (in a loop of 200,000 jobs: 9-19 µs a job through a `Job`, 3-4 µs here; see
 * docs/architecture.md, "Round ten"). Checked byte for byte against BullMQ's own build of a
 * probe job when made: a BullMQ that builds its adds differently fails the start.
 */
export class AddArguments {
  private readonly keyPrefix: string;
  /** The queue's default options as BullMQ encodes them, with a placeholder job id in place. */
  private readonly options: Record<string, unknown>;

  /** From a probe job of the queue (its default options) and the add BullMQ built for it. */
  constructor(queue: Queue<InboundJob>, probe: Job<InboundJob>, probeAdd: unknown[]) {
    this.keyPrefix = queue.toKey('');
    // The options as the Job normalised them (attempts, backoff), encoded as `asJSON` does.
    this.options = Job.optsAsJSON(probe.opts) as Record<string, unknown>;
    const theirs = probeAdd.slice(STANDARD.keys) as [Buffer, string, Buffer];
    const timestamp = (packer.unpack(theirs[0]) as unknown[])[3] as number;
    const ours = this.build(probe.name, probe.data, probe.id!, timestamp);
    if (!(ours[0].equals(theirs[0]) && ours[1] === theirs[1] && ours[2].equals(theirs[2])))
      throw new Error(`BullMQ's add arguments changed: review src/pipeline/ingest-batch.ts`);
  }

  /** The arguments for one job; the timestamp is BullMQ's own stamp, the wall clock's now. */
  build(
    name: string,
    data: InboundJob,
    jobId: string,
    timestamp = Date.now(),
  ): [Buffer, string, Buffer] {
    return [
      // Key prefix, job id, name, timestamp, then no parent, parent dependencies, parent
      // options, repeat key or deduplication key.
      packer.pack([this.keyPrefix, jobId, name, timestamp, null, null, null, null, null]),
      JSON.stringify(data),
      // The job id keeps its place among the options, as in BullMQ's encoding.
      packer.pack({ ...this.options, jobId }),
    ];
  }
}

/**
 * Collects deliveries per queue and sends each queue's in one call: at the end
 * of the turn they arrived in, once no call of that queue is out at Redis and
 * `spacingMs` have passed since its last call left (or it holds
 * SEND_AT_ONCE_EVENTS). A delivery after a quiet spell goes at once (no added
 * wait at low load); a steady stream goes in one call per `spacingMs` (at
 * 1,000 webhooks a second and 5 ms, about five deliveries a call instead of
 * one or two: about 10% less CPU per message in the process and 30 µs less
 * Redis CPU, for a few ms on the ack; docs/architecture.md). When Redis is
 * slow the calls do not pile up one per webhook behind it: what arrives
 * meanwhile goes in the next call.
 */
export class IngestBatches {
  private readonly lanes = new Map<Queue<InboundJob>, Lane>();
  private readonly queueKeys = new WeakMap<Queue<InboundJob>, QueueKeys>();

  constructor(
    private readonly redis: Redis,
    private readonly limits: {
      ratePerMinute: number;
      fairSharePerMinute: number;
      maxPriority: number;
      /** Least time between two calls of a queue (INGEST_CALL_SPACING_MS); 0: turn by turn. */
      spacingMs: number;
    },
  ) {}

  submit(queue: Queue<InboundJob>, delivery: BatchDelivery): Promise<BatchVerdict> {
    const { addArguments } = this.keysOf(queue);
    const keys = [delivery.rateKey];
    const args: Array<string | number | Buffer> = [
      delivery.weight,
      delivery.events.length,
      delivery.ingestId,
    ];
    for (const event of delivery.events) {
      // The add's arguments as `Queue.add` builds them; the queue keys are the same for every
      // job and travel once per call. The script writes the event's mark with the job, and the
      // job says so.
      keys.push(event.seenKey, queue.toKey(event.jobId));
      args.push(...addArguments.build(event.name, { ...event.data, marked: true }, event.jobId));
    }
    return new Promise<BatchVerdict>((resolve, reject) => {
      let lane = this.lanes.get(queue);
      if (!lane) {
        lane = { open: null, timer: null, immediate: false, inFlight: 0, lastSent: -Infinity };
        this.lanes.set(queue, lane);
      }
      const batch = lane.open ?? { deliveries: [], events: 0 };
      lane.open = batch;
      batch.deliveries.push({ keys, args, resolve, reject });
      batch.events += delivery.events.length;
      // A full batch goes at once, even beside one in flight: one call holds Redis briefly.
      if (batch.events >= MAX_BATCH_EVENTS) this.send(queue, lane);
      else this.schedule(queue, lane);
    });
  }

  /**
   * Flushes the open batch at the end of this turn, or once the spacing since the last call
   * is over; a batch of SEND_AT_ONCE_EVENTS does not wait for the spacing.
   */
  private schedule(queue: Queue<InboundJob>, lane: Lane): void {
    const batch = lane.open;
    if (!batch || lane.inFlight > 0 || lane.immediate) return;
    const wait =
      batch.events >= SEND_AT_ONCE_EVENTS
        ? 0
        : lane.lastSent + this.limits.spacingMs - performance.now();
    if (wait > 0) {
      lane.timer ??= setTimeout(() => this.flush(queue, lane), wait);
      return;
    }
    if (lane.timer) clearTimeout(lane.timer);
    lane.timer = null;
    lane.immediate = true;
    setImmediate(() => this.flush(queue, lane));
  }

  private flush(queue: Queue<InboundJob>, lane: Lane): void {
    lane.timer = null;
    lane.immediate = false;
    if (lane.inFlight === 0) this.send(queue, lane);
  }

  private send(queue: Queue<InboundJob>, lane: Lane): void {
    const batch = lane.open;
    if (!batch) return;
    lane.open = null;
    if (lane.timer) clearTimeout(lane.timer);
    lane.timer = null;
    lane.inFlight++;
    lane.lastSent = performance.now();
    const { standard, prioritized } = this.keysOf(queue);
    const keys = [...standard, ...prioritized];
    const args: Array<string | number | Buffer> = [
      60_000,
      this.limits.ratePerMinute,
      this.limits.fairSharePerMinute,
      this.limits.maxPriority,
      DEDUPE_TTL_SECONDS,
    ];
    for (const delivery of batch.deliveries) {
      keys.push(...delivery.keys);
      args.push(...delivery.args);
    }
    const settled = () => {
      lane.inFlight--;
      // What gathered while this call was out goes in one call, spaced from this one.
      this.schedule(queue, lane);
    };
    this.call(keys, args).then(
      (verdicts) => {
        settled();
        batch.deliveries.forEach((delivery, i) => {
          const [before, ttlMs, ...outcomes] = verdicts[i]!;
          delivery.resolve({ before: before!, ttlMs: ttlMs!, outcomes });
        });
      },
      (error: unknown) => {
        settled();
        for (const delivery of batch.deliveries) delivery.reject(error);
      },
    );
  }

  /**
   * EVALSHA written at once: the batch already gathered this turn's callers,
   * so holding the call for the connection's auto-pipelining would only add a
   * turn of latency. A Redis without the script gets it once (SCRIPT LOAD).
   */
  private async call(
    keys: string[],
    args: Array<string | number | Buffer>,
  ): Promise<Array<number[]>> {
    const send = () =>
      this.redis.sendCommand(
        new Command('evalsha', [INGEST_BATCH_SCRIPT.sha, keys.length, ...keys, ...args], {
          replyEncoding: 'utf8',
        }),
      ) as Promise<Array<number[]>>;
    try {
      return await send();
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      await this.redis.script('LOAD', INGEST_BATCH_SCRIPT.lua);
      return await send();
    }
  }

  /**
   * The queue's add keys, taken once from the adds BullMQ builds (standard and prioritized),
   * and its add arguments' builder, checked against BullMQ's own. The ingest use case calls
   * this for every inbound queue when the service is built, so a BullMQ that builds its adds
   * differently stops the start, not the first webhook.
   */
  keysOf(queue: Queue<InboundJob>): QueueKeys {
    const known = this.queueKeys.get(queue);
    if (known) return known;
    const probe = (opts: JobsOptions) => {
      const job = new Job<InboundJob>(
        queue,
        'probe',
        { probe: true } as unknown as InboundJob,
        { ...queue.defaultJobOptions, ...opts, jobId: 'probe' },
        'probe',
      );
      return { job, add: captureAdd(queue, job) };
    };
    // One probe gives the standard add's keys and checks the argument builder against BullMQ.
    const standard = probe({});
    const keys = {
      standard: standard.add.slice(0, STANDARD.keys) as string[],
      prioritized: probe({ priority: 1 }).add.slice(0, STANDARD.keys) as string[],
      addArguments: new AddArguments(queue, standard.job, standard.add),
    };
    this.queueKeys.set(queue, keys);
    return keys;
  }
}
