import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Every Prometheus metric the service exposes, created once per process. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    webhookRequests: new Counter({
      name: 'seatmate_webhook_requests_total',
      help: 'Webhook deliveries by platform and HTTP status',
      labelNames: ['platform', 'status'] as const,
      registers: [registry],
    }),
    webhookEvents: new Counter({
      name: 'seatmate_webhook_events_total',
      help: 'Events in webhook deliveries: queued, duplicate, or refused (malformed, set aside from a batch)',
      labelNames: ['platform', 'outcome'] as const,
      registers: [registry],
    }),
    inboundDuplicateJobs: new Counter({
      name: 'seatmate_inbound_duplicate_jobs_total',
      help: 'Inbound jobs dropped unprocessed: a second copy of an event another job already took',
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'seatmate_queue_depth',
      help: 'Jobs waiting, active, delayed or failed per queue (an inbound batch job counts once)',
      labelNames: ['queue', 'state'] as const,
      registers: [registry],
    }),
    jobLatency: new Histogram({
      name: 'seatmate_job_latency_seconds',
      help: 'From webhook acknowledgement to job completion (per event, batch jobs too)',
      labelNames: ['queue'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    }),
    pipelineStage: new Histogram({
      name: 'seatmate_pipeline_stage_seconds',
      help: 'Time a buyer message spends in each stage: queue_wait, store, meter, assign, assist, publish',
      labelNames: ['stage'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers: [registry],
    }),
    jobsFailed: new Counter({
      name: 'seatmate_jobs_failed_permanently_total',
      help: 'Jobs that exhausted their retries or failed unrecoverably',
      labelNames: ['queue'] as const,
      registers: [registry],
    }),
    suggestionLatency: new Histogram({
      name: 'seatmate_suggestion_latency_seconds',
      help: 'Time to produce suggestions, by the engine that answered',
      labelNames: ['engine'] as const,
      buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 1, 2, 4, 8],
      registers: [registry],
    }),
    llmFallbacks: new Counter({
      name: 'seatmate_llm_fallbacks_total',
      help: 'Times the rules engine answered because the LLM timed out, failed or broke a rule',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    assistInProcess: new Counter({
      name: 'seatmate_assist_in_process_total',
      help: 'Suggestions drafted on the main thread because the assist thread was lost, away, missing a catalog or closed (ASSIST_THREAD)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
