import { type ConnectionOptions, type JobsOptions, Queue } from 'bullmq';
import type { NormalizedEvent, PlatformName } from '../platforms/contract';

export const INBOUND_QUEUE = 'inbound';
export const OUTBOUND_QUEUE = 'outbound';

export interface InboundJob {
  platform: PlatformName;
  shopId: string;
  event: NormalizedEvent;
  /** When the webhook was acknowledged (ms), for queue latency. */
  receivedAt: number;
}

export interface OutboundJob {
  shopId: string;
  replyId: string;
}

/** The job id makes a concurrent duplicate add a no-op while the job is retained. */
export function inboundJobId(platform: string, shopId: string, eventId: string): string {
  // BullMQ forbids ':' in custom ids; base64url keeps every platform's ids intact.
  return `in_${Buffer.from(`${platform}\u0000${shopId}\u0000${eventId}`).toString('base64url')}`;
}

/**
 * Retries with exponential backoff (1 s, 2 s, 4 s ... about 4 min in all);
 * completed jobs are trimmed because idempotency lives in our own keys, failed
 * ones are kept so an operator can see and retry them.
 */
export const inboundJobOptions: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: false,
};

export function createQueues(
  connection: ConnectionOptions,
  prefix: string,
  outbound: { attempts: number; backoffMs: number },
) {
  return {
    inbound: new Queue<InboundJob>(INBOUND_QUEUE, {
      connection,
      prefix,
      defaultJobOptions: inboundJobOptions,
    }),
    outbound: new Queue<OutboundJob>(OUTBOUND_QUEUE, {
      connection,
      prefix,
      defaultJobOptions: {
        attempts: outbound.attempts,
        backoff: { type: 'exponential', delay: outbound.backoffMs },
        removeOnComplete: { age: 86_400 },
        removeOnFail: false,
      },
    }),
  };
}

export type Queues = ReturnType<typeof createQueues>;
