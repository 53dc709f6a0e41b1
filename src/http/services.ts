import type { AgentEvents } from '../agents/agent-events';
import type { AgentRegistry } from '../agents/agent-registry';
import type { MediaProxy } from '../agents/media-proxy';
import type { Presence } from '../agents/presence';
import type { QuickPhrases } from '../agents/quick-phrases';
import type { ReplyStore } from '../agents/reply-store';
import type { ResponseClock } from '../agents/response-clock';
import type { StreamSessions } from '../agents/stream-sessions';
import type { Workspace } from '../agents/workspace';
import type { Assistant } from '../assist/assistant';
import type { AuditLog } from '../audit/audit-log';
import type { Config } from '../config/config';
import type { DeskBoard } from '../desk/desk-board';
import type { ConsultationMeter } from '../metering/consultation-meter';
import type { OperatorRegistry } from '../operators/operator-registry';
import type { DueTimers } from '../pipeline/due-timers';
import type { Queues } from '../pipeline/queues';
import type { WebhookIngest } from '../pipeline/webhook-ingest';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Metrics } from '../shared/metrics';
import type { RedisConnection, RedisKeys } from '../shared/redis';
import type { ShopRegistry } from '../shops/shop-registry';
import type { WidgetMailbox } from '../widget/widget-mailbox';
import type { WidgetService } from '../widget/widget-service';
import type { FailureBudget } from './failure-budget';

/** What the HTTP layer is handed by the app wiring; routes hold no state of their own. */
export interface HttpServices {
  config: Config;
  adminToken: string;
  publicBaseUrl: string;
  redis: RedisConnection;
  keys: RedisKeys;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  queues: Queues;
  /** Armed alerts and closes: counted as their queues' delayed jobs. */
  timers: DueTimers;
  shops: ShopRegistry;
  agents: AgentRegistry;
  operators: OperatorRegistry;
  audit: AuditLog;
  deskBoard: DeskBoard;
  meter: ConsultationMeter;
  ingest: WebhookIngest;
  assistant: Assistant;
  workspace: Workspace;
  /** Buyers' media fetched through the shop's platform token, for agents. */
  mediaProxy: MediaProxy;
  events: AgentEvents;
  /** Agents' replies, for an operator's retry of one whose job failed for good. */
  replies: ReplyStore;
  responseClock: ResponseClock;
  presence: Presence;
  quickPhrases: QuickPhrases;
  /** The event streams this process serves (caps, replay, the shared Redis reader). */
  streams: StreamSessions;
  /** Failed webhook verifications per client address (429 past the budget). */
  verificationFailures: FailureBudget;
  /** True once the process is shutting down: answers carry `Connection: close`. */
  draining: () => boolean;
  widget: WidgetService;
  widgetMailbox: WidgetMailbox;
  /** Runs `stop` when the process shuts down (ends SSE streams so the server can close). */
  onShutdown(stop: () => void): () => void;
}
