import type Router from '@koa/router';
import type { Job, Queue } from 'bullmq';
import { billingRoutes } from '../http/routes/billing-routes';
import type { ConsultationMeter } from '../metering/consultation-meter';
import { OvertimeLog } from '../metering/overtime-log';
import { jobIds, type MonthCloseJob } from '../pipeline/queues';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { RedisConnection, RedisKeys } from '../shared/redis';
import { isMonth, monthOf, previousMonth } from '../shared/shop-calendar';
import type { ShopRegistry } from '../shops/shop-registry';
import { InvoiceBook } from './invoice-book';
import { MonthClose } from './month-close';

export const MONTH_CLOSE_SCHEDULER = 'month-close';
/** 00:30 on the 2nd: the previous month has ended in every zone from UTC+14 to UTC-12 by then. */
export const MONTH_CLOSE_CRON = '30 0 2 * *';

/** A close that failed for good is queued again for the same month this often, an hour apart. */
export const MONTH_CLOSE_RERUNS = 24;
const RERUN_DELAY_MS = 3_600_000;

/**
 * Billing wiring in one place, so the container only adds a few lines: the
 * invoice book, month close, overtime, the HTTP routers, and the close job's
 * processor, final-failure step and schedule (the queue itself belongs to the
 * job topology, src/pipeline/queues.ts).
 */
export function createBillingModule(deps: {
  redis: RedisConnection;
  keys: RedisKeys;
  shops: ShopRegistry;
  meter: ConsultationMeter;
  clock: Clock;
  logger: Logger;
  billingTimezone: string;
  queue: Queue<MonthCloseJob>;
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
  const { queue } = deps;

  /**
   * What one close job does; a scheduled run closes the month before the
   * current one in BILLING_TIMEZONE and pins it in the job, so its retries
   * close that month even after the calendar moved on.
   */
  async function processClose(job: Pick<Job<MonthCloseJob>, 'data'> & Partial<Job<MonthCloseJob>>) {
    let month = job.data.month;
    if (!month) {
      month = previousMonth(monthOf(clock.now(), billingTimezone));
      await job.updateData?.({ ...job.data, month });
    }
    // Progress for the operator's page: a Redis write every few percent, not every shop.
    let reported = 0;
    const report = await monthClose.close(month, {
      onProgress: (done, total) => {
        if (done === total || done - reported >= Math.max(1, Math.ceil(total / 50))) {
          reported = done;
          void job.updateProgress?.({ done, total })?.catch(() => undefined);
        }
      },
    });
    await job.updateProgress?.({ done: report.shops, total: report.shops, report });
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
            queue,
            billingTimezone,
          }),
        ],
      };
    },
    /** A close that failed for good is queued again for the same month, an hour later, a bounded number of times. */
    async onCloseFailedForGood(job: Job<MonthCloseJob>, error: Error): Promise<void> {
      const month = job.data.month;
      const rerun = (job.data.rerun ?? 0) + 1;
      if (!month || !isMonth(month) || rerun > MONTH_CLOSE_RERUNS) {
        logger.error(
          { month, err: error.message },
          'month close gave up; run billing:close by hand',
        );
        return;
      }
      await queue.add(
        'close-month-again',
        { month, rerun },
        { jobId: jobIds.monthCloseRerun(month, rerun), delay: RERUN_DELAY_MS },
      );
      logger.error(
        { month, rerun },
        'month close failed for good; queued again for the same month',
      );
    },
    /** (Re)registers the monthly schedule; upsert makes restarts harmless. */
    async schedule(): Promise<void> {
      await queue.upsertJobScheduler(
        MONTH_CLOSE_SCHEDULER,
        { pattern: MONTH_CLOSE_CRON, tz: billingTimezone },
        { name: 'close-previous-month', data: {} },
      );
    },
  };
}

export type BillingModule = ReturnType<typeof createBillingModule>;
