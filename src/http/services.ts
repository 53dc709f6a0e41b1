import type { Redis } from 'ioredis';
import type { AgentRegistry } from '../agents/agent-registry';
import type { Config } from '../config/config';
import type { ConsultationMeter } from '../metering/consultation-meter';
import type { Queues } from '../pipeline/queues';
import type { WebhookIngest } from '../pipeline/webhook-ingest';
import type { ShopRegistry } from '../shops/shop-registry';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Metrics } from '../shared/metrics';
import type { RedisKeys } from '../shared/redis';

/** What the HTTP layer is handed by the app wiring; routes hold no state of their own. */
export interface HttpServices {
  config: Config;
  adminToken: string;
  publicBaseUrl: string;
  redis: Redis;
  keys: RedisKeys;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  queues: Queues;
  shops: ShopRegistry;
  agents: AgentRegistry;
  meter: ConsultationMeter;
  ingest: WebhookIngest;
}
