import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Job, type JobsOptions, type Queue } from 'bullmq';
import { Command, type Redis } from 'ioredis';
import { defineScript } from '../shared/redis-scripts';
import { DEDUPE_TTL_SECONDS } from './delivery-dedupe';
import { INBOUND_BATCH, type InboundJob, type InboundJobData, jobIds } from './queues';

/**
 * Ingest on one Redis in one command for many webhooks: the deliveries that
 * gather while the previous call is out (see IngestBatches) are rate-limited,
 * checked for redeliveries and queued by one script call, in arrival order. Each delivery
 * is still judged on its own (its shop's window, its events' dedupe keys and
 * job ids), and its jobs are in Redis before its answer, as with one call each.
 *
 * The script stores each job as BullMQ's `Queue.add` stores a job with our options (the
 * same hash, list or prioritized-set entry, events and marker), for the queue's keys taken
 * from BullMQ's own add. It does not run BullMQ's add Lua once per job: that Lua also
 * handles parents, repeats, deduplication, delays and duplicates, none of which an ingest
 * job has, and running it per job cost about 11 µs of Redis CPU per message more than the
 * writes alone (docs/architecture.md, "Round thirteen"). So the writes are ours, reviewed
 * against the installed BullMQ's add (ADD_LUA_REVIEWED), and a test compares a stored job
 * with `Queue.add`'s. A Cluster cannot do this (the shop's keys and the queue live in
 * different slots): there ingest makes two round trips (see WebhookIngest).
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

/**
 * The SHA-256 of BullMQ's addStandardJob and addPrioritizedJob Lua (BullMQ 5.81.5) that
 * the script below was written from. Another BullMQ stops the start until someone compares
 * its add with the script and records the new digest here.
 */
const ADD_LUA_REVIEWED = 'cd8360d8b7e8ee6a904e98890f21e63a8c52ab13c484c0573ad5f5facf0004bc';

/** Throws unless the installed BullMQ adds jobs as the script below was written for. */
export function checkBullmqAdd(
  scripts: Record<string, BullScript | undefined> = bullScripts,
): void {
  const standard = scripts.addStandardJob;
  const prioritized = scripts.addPrioritizedJob;
  const digest =
    standard && prioritized
      ? createHash('sha256').update(standard.content).update(prioritized.content).digest('hex')
      : 'missing';
  if (digest !== ADD_LUA_REVIEWED || standard?.keys !== 9 || prioritized?.keys !== 9)
    throw new Error(
      "BullMQ's add changed since src/pipeline/ingest-batch.ts was written from it: compare its " +
        'addStandardJob/addPrioritizedJob Lua with the ingest script, then update ADD_LUA_REVIEWED',
    );
}

/** The add's own keys: the standard add's and the prioritized add's, 9 each. */
const ADD_KEYS = 9;

/**
 * Options an ingest job's add would have to handle and the script does not (it stores an
 * immediate FIFO job, or a prioritized one by fair share, its stamp the time of the add):
 * a queue whose default options carry one of these stops the start. Besides the job's place
 * and relations, `Queue.add` refuses data over `sizeLimit`, stamps the job with `timestamp`
 * and stores `repeatJobKey` in a field of its own; every other option is only copied into
 * the stored options, as the script copies it (optionsHead).
 */
const UNHANDLED_OPTIONS = [
  'delay',
  'lifo',
  'priority',
  'parent',
  'repeat',
  'deduplication',
  'debounce',
  'sizeLimit',
  'timestamp',
  'repeatJobKey',
] as const;

/**
 * A call is sent as soon as it carries this many events, mid-turn, spacing or
 * not, beside any call already out (a delivery of more events, up to a
 * platform's cap of 1,000, goes at once with those gathered before it). Eight
 * events already share one call's cost; gathering more held every webhook of a
 * busy turn until the turn's end: at 100 connections a turn reads some 50
 * webhooks, and the first waited for the other 49 to be verified, which in a
 * closed loop left a fifth of the CPU idle (`bench:ingest`: 128 → 8 took 13,200 to 16,300 msg/s;
 * docs/architecture.md, "Round thirteen").
 */
const FULL_CALL_EVENTS = 8;

/**
 * The most events one batch job carries. A worker runs a batch's
 * conversations side by side, so this bounds what one job slot holds in
 * flight: a platform's delivery of 1,000 events is 125 jobs, not one job of
 * 1,000 conversations at once. The size of a full call (FULL_CALL_EVENTS):
 * a steady stream's calls are that size or smaller.
 */
const BATCH_EVENTS = FULL_CALL_EVENTS;

/**
 * The batch ids a call of `events` events gets. Each priority among its new
 * events (its FIFO events, each tier past a shop's fair share: a tier per
 * `share` events of a shop) starts a batch of its own, and a batch holds
 * BATCH_EVENTS: so one id per BATCH_EVENTS events, one per tier a flood of
 * them spans, and two for the partly filled batches where a shop's share and
 * a tier begin mid-call (a 1,000-event delivery at a share of 60: 142). A
 * call that spans more (many shops each at another tier) queues the events
 * left without an id in jobs of their own, as a lone event.
 */
function batchIdsFor(events: number, share: number): number {
  return Math.ceil(events / BATCH_EVENTS) + Math.ceil(events / share) + 2;
}

/**
 * KEYS: the standard add's 9 queue keys, the prioritized add's 9, the batch
 * jobs' keys, then per delivery its shop's rate key followed by, per event,
 * its dedupe key and its job key. ARGV: window ms, events per window, fair
 * share, largest priority, dedupe key ttl (s), the queue's options as stored
 * up to the job id's value, the most events a batch carries, the number of
 * batch ids followed by them, then
 * per delivery its weight, event count, ingest id and add time (ms)
 * followed by, per event, its job name, job id and data (JSON). Returns per delivery
 * the window's count before it, the window's ttl when refused (else -1), then
 * per event 0 (a redelivery: the dedupe key is there), 1 (queued by this call)
 * or 2 (its own job is still queued: absorbed; an event waiting in a batch job
 * is found by its dedupe key, 0).
 *
 * The dedupe key is written here, with the job, in the delivery's name (its
 * ingest id): the job and its mark exist together or not at all, so no later
 * copy of the event can be queued and the worker need not write the mark
 * (`InboundJob.marked`; one Redis command and one round trip less per message).
 *
 * The call's new events of one priority go in one job when there are several
 * (InboundBatchJob, named INBOUND_BATCH; at most BATCH_EVENTS a job): one
 * BullMQ job's take, lock and finish for all of them. Events past their
 * shop's fair share keep their tier (the batch of a tier has its priority, so
 * a flood still waits behind other shops); an event alone at its priority
 * gets a job of its own, under its own id, as before. The jobs are added after the loop, a priority at a time in
 * the order they came: when an add fails, the jobs added before it stay
 * queued, counted and marked, and the events not queued lose their marks.
 */
const INGEST_BATCH_SCRIPT = defineScript<Array<number[]>>(
  'ingestBatch',
  `
local rcall = redis.call
-- The standard add's keys (wait, paused, meta, id, completed, delayed, active, events, marker),
-- then the prioritized add's (marker, meta, id, prioritized, delayed, completed, active, events,
-- pc): the same queue's.
local waitKey, pausedKey, metaKey, idKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local activeKey, eventsKey, markerKey = KEYS[7], KEYS[8], KEYS[9]
local prioritizedKey, priorityCounterKey = KEYS[13], KEYS[18]
local window = ARGV[1]
local limit, share, maxPriority = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local dedupeTtl, optsHead = ARGV[5], ARGV[6]

-- What every add reads of the queue, read once: nothing this script writes changes it.
local maxEvents = rcall('HGET', metaKey, 'opts.maxLenEvents')
if not maxEvents then
  maxEvents = 10000
  rcall('HSET', metaKey, 'opts.maxLenEvents', maxEvents)
end
local attributes = rcall('HMGET', metaKey, 'paused', 'concurrency')
local pausedOrMaxed = attributes[1] and true or false
if not pausedOrMaxed and attributes[2] then
  pausedOrMaxed = rcall('LLEN', activeKey) >= tonumber(attributes[2])
end
local targetKey = attributes[1] and pausedKey or waitKey

-- One job as BullMQ's add stores it (ADD_LUA_REVIEWED): storeJob, then the wait (or paused)
-- list or the prioritized set, then the waiting event.
local function addJob(jobKey, jobId, name, data, timestamp, priority)
  local idJson = cjson.encode(jobId)
  local opts
  if priority > 0 then
    opts = optsHead .. idJson .. ',"priority":' .. priority .. '}'
  else
    opts = optsHead .. idJson .. '}'
  end
  rcall('HMSET', jobKey, 'name', name, 'data', data, 'opts', opts, 'timestamp', timestamp,
    'delay', 0, 'priority', priority)
  rcall('XADD', eventsKey, '*', 'event', 'added', 'jobId', jobId, 'name', name)
  if priority > 0 then
    local counter = rcall('INCR', priorityCounterKey)
    rcall('ZADD', prioritizedKey, priority * 0x100000000 + counter % 0x100000000, jobId)
  else
    rcall('LPUSH', targetKey, jobId)
  end
  rcall('XADD', eventsKey, 'MAXLEN', '~', maxEvents, '*', 'event', 'waiting', 'jobId', jobId)
end

local out = {}
local added = 0
local failure
-- The call's new events by priority, the priorities in the order they first came. After the
-- loop each priority's events are queued: one job of their own when alone, else one batch job
-- (while the call's batch ids last, then each on its own again).
local groups, priorities = {}, {}
local batchEvents, batchIds = tonumber(ARGV[7]), tonumber(ARGV[8])
-- Undoes one add: a script's writes are not undone by its error, and a mark or a job hash left
-- behind would take the platform's retry of the 503 for a redelivery or a still-queued job, and
-- the event would be lost. The job key did not exist (EXISTS, or a fresh batch id): what is
-- there now is this add's.
local function undo(jobKey, jobId)
  rcall('DEL', jobKey)
  pcall(rcall, 'LREM', targetKey, 0, jobId)
  pcall(rcall, 'ZREM', prioritizedKey, jobId)
end
local k, a = 19 + batchIds, 9 + batchIds
while a <= #ARGV do
  local weight, events, token = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), ARGV[a + 2]
  local timestamp = ARGV[a + 3]
  a = a + 4
  local rateKey = KEYS[k]
  k = k + 1
  local count = rcall('INCRBY', rateKey, weight)
  if count == weight then rcall('PEXPIRE', rateKey, window) end
  local before = count - weight
  local answer = {before, -1}
  if before >= limit then
    -- Refused whole: the window's remaining time is only needed now (Retry-After).
    answer[2] = rcall('PTTL', rateKey)
    k = k + 2 * events
    a = a + 3 * events
  else
    for i = 1, events do
      local seenKey, jobKey = KEYS[k], KEYS[k + 1]
      local name, jobId, data = ARGV[a], ARGV[a + 1], ARGV[a + 2]
      k = k + 2
      a = a + 3
      if rcall('EXISTS', jobKey) == 1 then
        answer[i + 2] = 2
      elseif not rcall('SET', seenKey, token, 'EX', dedupeTtl, 'NX') then
        answer[i + 2] = 0
      else
        -- The shop's rank-th event this minute: past its fair share, one priority tier per share.
        local rank = before + i
        local priority = 0
        if rank > share then priority = math.min(maxPriority, math.ceil((rank - share) / share)) end
        answer[i + 2] = 1
        local group = groups[priority]
        if not group then
          group = {}
          groups[priority] = group
          priorities[#priorities + 1] = priority
        end
        group[#group + 1] = {seen = seenKey, key = jobKey, id = jobId, name = name, data = data,
          timestamp = timestamp}
      end
    end
  end
  out[#out + 1] = answer
end
local batches = 0
for _, priority in ipairs(priorities) do
  local group = groups[priority]
  -- The priority's events in batches of at most batchEvents, while the call's batch ids last;
  -- a batch of one, or past the ids, is a job per event.
  local jobs = {}
  local first = 1
  while first <= #group do
    local last = math.min(#group, first + batchEvents - 1)
    if last > first and batches < batchIds then
      batches = batches + 1
      local entries, events = {}, {}
      for i = first, last do
        entries[#entries + 1] = group[i].data
        events[#events + 1] = group[i]
      end
      jobs[#jobs + 1] = {key = KEYS[18 + batches], id = ARGV[8 + batches],
        name = '${INBOUND_BATCH}', data = '{"events":[' .. table.concat(entries, ',') .. ']}',
        timestamp = group[first].timestamp, events = events}
    else
      for i = first, last do
        local event = group[i]
        jobs[#jobs + 1] = {key = event.key, id = event.id, name = event.name, data = event.data,
          timestamp = event.timestamp, events = {event}}
      end
    end
    first = last + 1
  end
  for _, job in ipairs(jobs) do
    local ok, err = pcall(addJob, job.key, job.id, job.name, job.data, job.timestamp, priority)
    if not ok then
      undo(job.key, job.id)
      failure = err
      break
    end
    added = added + 1
    for _, event in ipairs(job.events) do event.queued = true end
  end
  if failure then break end
end
if failure then
  -- The events not queued lose their marks with the call; those queued before keep theirs.
  for _, group in pairs(groups) do
    for _, event in ipairs(group) do
      if not event.queued then rcall('DEL', event.seen) end
    end
  end
end
if added > 0 then
  -- BullMQ's add counts every job in the queue's id counter and marks the queue as having work;
  -- the jobs stored before a failed add stay queued, so they are counted and marked too.
  rcall('INCRBY', idKey, added)
  if not pausedOrMaxed then rcall('ZADD', markerKey, 0, '0') end
end
if failure then error(failure) end
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
  ingestId: string;
  keys: string[];
  args: Array<string | number>;
  resolve: (verdict: BatchVerdict) => void;
  reject: (error: unknown) => void;
}

interface QueueKeys {
  standard: string[];
  prioritized: string[];
  /** The queue's default options as BullMQ stores them, up to the job id's value. */
  optsHead: string;
}

/** A stand-in client that keeps the script call BullMQ's `Job.addJob` would make. */
function captureAdd(queue: Queue<InboundJobData>, job: Job<InboundJobData>): unknown[] {
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

/**
 * Collects deliveries per queue and sends each queue's in one call: at the end
 * of the turn they arrived in, once no call of that queue is out at Redis and
 * `spacingMs` have passed since its last call left, or as soon as it holds
 * FULL_CALL_EVENTS. A delivery after a quiet spell goes at once (no added
 * wait at low load); a steady stream goes in one call per `spacingMs` (at
 * 1,000 webhooks a second and 5 ms, about five deliveries a call instead of
 * one or two: about 10% less CPU per message in the process and 30 µs less
 * Redis CPU, for a few ms on the ack; docs/architecture.md). When Redis is
 * slow the calls do not pile up one per webhook behind it: what arrives
 * meanwhile goes in the next call, or in a call of its own once that holds
 * FULL_CALL_EVENTS (so at most one call per 8 events, or per larger delivery).
 */
export class IngestBatches {
  private readonly lanes = new Map<Queue<InboundJobData>, Lane>();
  private readonly queueKeys = new WeakMap<Queue<InboundJobData>, QueueKeys>();

  constructor(
    private readonly redis: Redis,
    private readonly limits: {
      ratePerMinute: number;
      fairSharePerMinute: number;
      maxPriority: number;
      /** Least time between two calls of a queue (INGEST_CALL_SPACING_MS); 0: turn by turn. */
      spacingMs: number;
    },
  ) {
    checkBullmqAdd();
  }

  submit(queue: Queue<InboundJobData>, delivery: BatchDelivery): Promise<BatchVerdict> {
    const keys = [delivery.rateKey];
    const args: Array<string | number> = [
      delivery.weight,
      delivery.events.length,
      delivery.ingestId,
      // BullMQ's stamp: the wall clock's now when the job is added.
      Date.now(),
    ];
    for (const event of delivery.events) {
      // The script writes the event's mark with the job, and the job says so.
      keys.push(event.seenKey, queue.toKey(event.jobId));
      args.push(event.name, event.jobId, JSON.stringify({ ...event.data, marked: true }));
    }
    return new Promise<BatchVerdict>((resolve, reject) => {
      let lane = this.lanes.get(queue);
      if (!lane) {
        lane = { open: null, timer: null, immediate: false, inFlight: 0, lastSent: -Infinity };
        this.lanes.set(queue, lane);
      }
      const batch = lane.open ?? { deliveries: [], events: 0 };
      lane.open = batch;
      batch.deliveries.push({ ingestId: delivery.ingestId, keys, args, resolve, reject });
      batch.events += delivery.events.length;
      // A full batch goes at once, even beside one in flight: one call holds Redis briefly.
      if (batch.events >= FULL_CALL_EVENTS) this.send(queue, lane);
      else this.schedule(queue, lane);
    });
  }

  /**
   * Flushes the open batch at the end of this turn, or once the spacing since the last call
   * is over (a full batch has already gone, see FULL_CALL_EVENTS).
   */
  private schedule(queue: Queue<InboundJobData>, lane: Lane): void {
    const batch = lane.open;
    if (!batch || lane.inFlight > 0 || lane.immediate) return;
    const wait = lane.lastSent + this.limits.spacingMs - performance.now();
    if (wait > 0) {
      lane.timer ??= setTimeout(() => this.flush(queue, lane), wait);
      return;
    }
    if (lane.timer) clearTimeout(lane.timer);
    lane.timer = null;
    lane.immediate = true;
    setImmediate(() => this.flush(queue, lane));
  }

  private flush(queue: Queue<InboundJobData>, lane: Lane): void {
    lane.timer = null;
    lane.immediate = false;
    if (lane.inFlight === 0) this.send(queue, lane);
  }

  private send(queue: Queue<InboundJobData>, lane: Lane): void {
    const batch = lane.open;
    if (!batch) return;
    lane.open = null;
    if (lane.timer) clearTimeout(lane.timer);
    lane.timer = null;
    lane.inFlight++;
    lane.lastSent = performance.now();
    const { standard, prioritized, optsHead } = this.keysOf(queue);
    // The call's first request names its batch jobs: a random UUID, so the ids are new.
    const batchIds = Array.from(
      { length: batchIdsFor(batch.events, this.limits.fairSharePerMinute) },
      (_, n) => jobIds.inboundBatch(batch.deliveries[0]!.ingestId, n),
    );
    const keys = [...standard, ...prioritized, ...batchIds.map((id) => queue.toKey(id))];
    const args: Array<string | number> = [
      60_000,
      this.limits.ratePerMinute,
      this.limits.fairSharePerMinute,
      this.limits.maxPriority,
      DEDUPE_TTL_SECONDS,
      optsHead,
      BATCH_EVENTS,
      batchIds.length,
      ...batchIds,
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
   * EVALSHA sent as a command of its own: the batch already gathered this turn's
   * callers, so holding the call for a Cluster's auto-pipelining (behind the batch
   * already out) would only add latency; on one Redis it leaves with the turn's write
   * (tick-writes.ts). A Redis without the script gets it once (SCRIPT LOAD).
   */
  private async call(keys: string[], args: Array<string | number>): Promise<Array<number[]>> {
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
   * and its options as a job stores them. The ingest use case calls this for every inbound
   * queue when the service is built, so default options the script does not handle stop the
   * start, not the first webhook.
   */
  keysOf(queue: Queue<InboundJobData>): QueueKeys {
    const known = this.queueKeys.get(queue);
    if (known) return known;
    const probe = (opts: JobsOptions) => {
      const job = new Job<InboundJobData>(
        queue,
        'probe',
        { probe: true } as unknown as InboundJob,
        { ...queue.defaultJobOptions, ...opts, jobId: 'probe' },
        'probe',
      );
      return { job, add: captureAdd(queue, job) };
    };
    const unhandled = UNHANDLED_OPTIONS.filter((name) => queue.defaultJobOptions[name]);
    if (unhandled.length > 0)
      throw new Error(
        `Ingest cannot add jobs with ${unhandled.join(', ')} (queue ${queue.name}): see src/pipeline/ingest-batch.ts`,
      );
    const standard = probe({});
    const keys = {
      standard: standard.add.slice(0, ADD_KEYS) as string[],
      prioritized: probe({ priority: 1 }).add.slice(0, ADD_KEYS) as string[],
      optsHead: optionsHead(standard.job),
    };
    this.queueKeys.set(queue, keys);
    return keys;
  }
}

/** The job's options as BullMQ stores them (`Job.asJSON`), up to the job id's JSON value. */
function optionsHead(probe: Job<InboundJobData>): string {
  const { jobId: _probe, ...options } = Job.optsAsJSON(probe.opts) as Record<string, unknown>;
  const json = JSON.stringify(options);
  return `${json.slice(0, -1)}${json === '{}' ? '' : ','}"jobId":`;
}
