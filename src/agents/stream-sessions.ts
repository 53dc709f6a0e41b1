import { randomBytes } from 'node:crypto';
import type { Clock } from '../shared/clock';
import { AppError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import {
  type AgentEvent,
  type AgentEvents,
  compareIds,
  dataLine,
  isStreamId,
  shopsOf,
} from './agent-events';
import type { AgentRegistry } from './agent-registry';
import type { EventHub } from './event-hub';
import type { Presence } from './presence';
import type { Routing } from './routing';

/** Where a session writes: the HTTP layer frames it as Server-Sent Events. */
export interface StreamSink {
  write(chunk: string): void;
  end(): void;
  /** Bytes written that the client has not taken yet. */
  backlog(): number;
  /**
   * Drops the connection at once, unsent bytes and all: ending would queue the
   * end behind the backlog, held until TCP gives up on a dead peer.
   */
  abort(): void;
}

/**
 * A client this far behind on live events (a stalled tab, a dead network
 * that TCP has not noticed) is cut off rather than buffered for without
 * bound: it reconnects with Last-Event-ID and reads what it missed from
 * Redis. Well above a full replay sitting unsent behind a slow link.
 */
export const STREAM_BACKLOG_BYTES = 8 * 1024 * 1024;

interface Session {
  streamId: string;
  agentId: string;
  /** The token the stream was opened with: reissuing the agent's token ends the stream. */
  tokenHash: string;
  /** The agent's current shops: events of any other shop are dropped, on replay and live. */
  shops: Set<string>;
  /** The id of the newest event written (or skipped) on this stream. */
  after: string;
  /** Live events read while the replay runs, written after it in order. */
  buffer: AgentEvent[] | null;
  sink: StreamSink;
  stop: () => void;
}

/**
 * The event streams this process serves: admission (caps per agent and per
 * process, refused while stopping), replay from Last-Event-ID, live events
 * from the shared hub, filtering by the agent's current shops, heartbeats,
 * and the presence beats that keep a connected agent online.
 */
export class StreamSessions {
  private readonly sessions = new Map<string, Session>();
  private stopping = false;
  private timer: NodeJS.Timeout | null = null;
  private lastHeartbeat = 0;

  constructor(
    private readonly deps: {
      hub: EventHub;
      events: AgentEvents;
      agents: AgentRegistry;
      presence: Presence;
      routing: Routing;
      clock: Clock;
      logger: Logger;
      heartbeatMs: number;
      offlineAfterMs: number;
      maxPerAgent: number;
      maxPerProcess: number;
    },
  ) {}

  /** How often open streams are beaten (presence) and checked (shops, revocation). */
  private get tickMs(): number {
    return Math.max(200, Math.min(this.deps.heartbeatMs, Math.floor(this.deps.offlineAfterMs / 3)));
  }

  /** A stream not beaten for this long belonged to a process that died: it no longer counts. */
  private get staleMs(): number {
    return this.tickMs * 3 + 5000;
  }

  get openCount(): number {
    return this.sessions.size;
  }

  /**
   * Opens a stream for the agent and writes the replay after `resumeFrom`
   * (the client's Last-Event-ID, or '' for live only). Throws 503 while
   * stopping or at the process cap, 429 at the agent's cap. Returns the stop function.
   */
  async open(
    agent: { agentId: string; shopIds: string[]; tokenHash: string },
    resumeFrom: string,
    sink: StreamSink,
  ): Promise<() => void> {
    if (this.stopping)
      throw new AppError(
        503,
        'shutting_down',
        'The service is restarting; reconnect in a few seconds.',
        { headers: { 'Retry-After': '2' } },
      );
    if (this.sessions.size >= this.deps.maxPerProcess)
      throw new AppError(
        503,
        'stream_capacity',
        'This server holds as many event streams as it may; retry in a moment.',
        { headers: { 'Retry-After': '5' } },
      );
    const { presence, events } = this.deps;
    const streamId = randomBytes(8).toString('base64url');
    const before = await presence.statusOf(agent.agentId);
    if (!(await presence.openStream(agent.agentId, streamId, this.deps.maxPerAgent, this.staleMs)))
      throw new AppError(
        429,
        'too_many_streams',
        `At most ${this.deps.maxPerAgent} event streams per agent are open at once; close another console tab.`,
        { details: { limit: this.deps.maxPerAgent }, headers: { 'Retry-After': '5' } },
      );

    const latest = await events.latestId(agent.agentId);
    // An id this stream never wrote (malformed, out of Redis's range, or ahead of the newest:
    // forged, or from a Redis since emptied) cannot be resumed from; as its own start it would
    // hide every event until the clock caught up. Such a client reloads, then follows live.
    const resumable = isStreamId(resumeFrom) && compareIds(resumeFrom, latest) <= 0;
    const session: Session = {
      streamId,
      agentId: agent.agentId,
      tokenHash: agent.tokenHash,
      shops: new Set(agent.shopIds),
      after: resumable ? resumeFrom : latest,
      buffer: [],
      sink,
      stop: () => {},
    };
    let unsubscribe = () => {};
    let open = true;
    session.stop = () => {
      if (!open) return;
      open = false;
      unsubscribe();
      this.sessions.delete(streamId);
      this.idle();
      sink.end();
      presence
        .closeStream(agent.agentId, streamId)
        .catch((error: Error) =>
          this.deps.logger.warn({ err: error.message }, 'could not record a closed stream'),
        );
    };
    this.sessions.set(streamId, session);
    this.ensureTimer();
    try {
      unsubscribe = await this.deps.hub.subscribe(agent.agentId, (batch) =>
        this.deliver(session, batch),
      );
      sink.write(`retry: 2000\n: connected as ${agent.agentId}\n\n`);
      if (resumeFrom && (!resumable || (await events.gapAfter(agent.agentId, resumeFrom))))
        sink.write(
          'event: reset\ndata: {"reason":"events since Last-Event-ID were trimmed; reload"}\n\n',
        );
      // Also for a fresh stream: events written between reading its start and subscribing
      // reached only the hub's earlier readers.
      await this.replay(session);
      const buffered = session.buffer ?? [];
      session.buffer = null;
      this.deliver(session, buffered);
    } catch (error) {
      session.stop();
      throw error;
    }
    // Opening the console brings a stated-online agent back: they pick up the buyers nobody holds.
    if (before === 'offline' && (await presence.statusOf(agent.agentId)) === 'online')
      this.deps.routing
        .presenceChanged(agent.agentId, 'online')
        .catch((error: Error) =>
          this.deps.logger.warn({ err: error.message }, 'pick-up after coming online failed'),
        );
    return session.stop;
  }

  /** Ends every stream and refuses new ones (shutdown). */
  stopAll(): void {
    this.stopping = true;
    for (const session of [...this.sessions.values()]) session.stop();
    this.idle();
  }

  /** Writes the kept events after the session's position, oldest first. */
  private async replay(session: Session): Promise<void> {
    const { events } = this.deps;
    for (;;) {
      const page = await events.since(session.agentId, session.after, 500);
      this.write(session, page);
      if (page.length < 500) return;
    }
  }

  private deliver(session: Session, batch: AgentEvent[]): void {
    if (session.buffer) {
      session.buffer.push(...batch);
      return;
    }
    this.write(session, batch);
    if (session.sink.backlog() > STREAM_BACKLOG_BYTES) {
      this.deps.logger.info({ agentId: session.agentId }, 'event stream ended: client not reading');
      session.stop();
      session.sink.abort();
    }
  }

  /** Writes the events the session has not written yet and may see, in one write for all. */
  private write(session: Session, batch: AgentEvent[]): void {
    let frames = '';
    for (const event of batch) {
      if (compareIds(event.id, session.after) <= 0) continue;
      session.after = event.id;
      const shops = shopsOf(event);
      if (!shops.some((shopId) => session.shops.has(shopId))) continue;
      // Presence names every shop of the agent it is about: each stream sees its own only.
      const data =
        event.type === 'presence'
          ? JSON.stringify({ ...event.data, shopIds: shops.filter((s) => session.shops.has(s)) })
          : dataLine(event);
      frames += `id: ${event.id}\nevent: ${event.type}\ndata: ${data}\n\n`;
    }
    if (frames) session.sink.write(frames);
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.tickMs);
    this.timer.unref();
  }

  private idle(): void {
    if (this.sessions.size > 0 || !this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
  }

  private async tick(): Promise<void> {
    const sessions = [...this.sessions.values()];
    const now = this.deps.clock.now();
    if (Date.now() - this.lastHeartbeat >= this.deps.heartbeatMs - 50) {
      this.lastHeartbeat = Date.now();
      for (const session of sessions)
        session.sink.write(`: heartbeat ${new Date(now).toISOString()}\n\n`);
    }
    try {
      await this.deps.presence.beat(sessions);
      // The agent's shops may have changed, or the token been revoked or reissued, since the stream opened.
      for (const agentId of new Set(sessions.map((s) => s.agentId))) {
        const [agent, tokenHash] = await Promise.all([
          this.deps.agents.get(agentId),
          this.deps.agents.tokenHashOf(agentId),
        ]);
        for (const session of sessions.filter((s) => s.agentId === agentId)) {
          if (!agent || session.tokenHash !== tokenHash) session.stop();
          else session.shops = new Set(agent.shopIds);
        }
      }
    } catch (error) {
      this.deps.logger.warn({ err: (error as Error).message }, 'event stream upkeep failed');
    }
  }
}
