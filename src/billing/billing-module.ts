import type Router from '@koa/router';
import { type ConnectionOptions, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { billingRoutes } from '../http/routes/billing-routes';
import type { ConsultationMeter } from '../metering/consultation-meter';
import { OvertimeLog } from '../metering/overtime-log';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { RedisKeys } from '../shared/redis';
import { monthOf, previousMonth } from '../shared/shop-calendar';
import type { ShopRegistry } from '../shops/shop-registry';
import { InvoiceBook } from './invoice-book';
import { MonthClose } from './month-close';

export const BILLING_QUEUE = 'billing';
export const MONTH_CLOSE_SCHEDULER = 'month-close';
/** 00:30 on the 2nd: the previous month has ended in every zone from UTC+14 to UTC-12 by then. */
export const MONTH_CLOSE_CRON = '30 0 2 * *';

export interface MonthCloseJob {
  /** the month to close; absent on scheduled runs, which close the previous month */
  month?: string;
}

/**
 * Billing wiring in one place, so the container only adds a few lines: the
 * invoice book, month close, overtime, the HTTP routers, and the close worker
 * with its job scheduler.
 */
export function createBillingModule(deps: {
  redis: Redis;
  keys: RedisKeys;
  shops: ShopRegistry;
  meter: ConsultationMeter;
  clock: Clock;
  logger: Logger;
  billingTimezone: string;
}) {
  const { redis, keys, shops, clock, logger, billingTimezone } = deps;
  const invoices = new InvoiceBook(redis, keys, shops, clock);
  const overtime = new OvertimeLog(redis, keys);
  const monthClose = new MonthClose({
    redis,
    keys,
    shops,
    invoices,
    clock,
    logger,
    billingTimezone,
  });
  const queue = new Queue<MonthCloseJob>(BILLING_QUEUE, {
    connection: redis,
    prefix: keys.queuePrefix,
  });
  let worker: Worker<MonthCloseJob> | undefined;

  /** What one close job does; scheduled runs close the month before the current one in BILLING_TIMEZONE. */
  async function processClose(job: { data: MonthCloseJob }) {
    const month = job.data.month ?? previousMonth(monthOf(clock.now(), billingTimezone));
    const report = await monthClose.close(month);
    // Failing the job makes BullMQ retry with backoff; the shops already closed are skipped then.
    if (report.failed.length > 0)
      throw new Error(
        `month close ${month}: ${report.failed.length} shop(s) failed, first: ${report.failed[0]!.message}`,
      );
    return report;
  }

  return {
    invoices,
    overtime,
    monthClose,
    queue,
    processClose,
    routers(): { v1: Router[] } {
      return {
        v1: [
          billingRoutes({
            redis,
            keys,
            clock,
            shops,
            meter: deps.meter,
            invoices,
            overtime,
            monthClose,
          }),
        ],
      };
    },
    /** Starts the close worker and (re)registers the monthly schedule; upsert makes restarts harmless. */
    async startWorker(connection: ConnectionOptions): Promise<Worker<MonthCloseJob>> {
      worker = new Worker<MonthCloseJob>(BILLING_QUEUE, processClose, {
        connection,
        prefix: keys.queuePrefix,
        concurrency: 1,
      });
      worker.on('failed', (job, error) =>
        logger.error(
          { queue: BILLING_QUEUE, jobId: job?.id, err: error.message },
          'month close failed; the next run resumes it',
        ),
      );
      worker.on('error', (error) => logger.warn({ err: error.message }, 'billing worker error'));
      await queue.upsertJobScheduler(
        MONTH_CLOSE_SCHEDULER,
        { pattern: MONTH_CLOSE_CRON, tz: billingTimezone },
        {
          name: 'close-previous-month',
          data: {},
          opts: {
            attempts: 5,
            backoff: { type: 'exponential', delay: 60_000 },
            removeOnComplete: 24,
            removeOnFail: false,
          },
        },
      );
      return worker;
    },
    async close(): Promise<void> {
      await worker?.close();
      await queue.close();
    },
  };
}

export type BillingModule = ReturnType<typeof createBillingModule>;
