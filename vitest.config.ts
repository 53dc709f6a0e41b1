import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The integration suites that also run on a local three-master Redis Cluster
 * (the `cluster` project): ingest, metering, the agent workspace and its
 * replies, month close, operators, the widget, two API and two worker
 * processes, and the checks that the cluster is really one.
 */
export const CLUSTER_SUITES = [
  'test/integration/webhook-ingest.test.ts',
  // Ingest's answers and stored jobs: one script per batch on one Redis, two round trips here.
  'test/integration/webhook-counts.test.ts',
  'test/integration/ingest-batch.test.ts',
  'test/integration/consultation-days.test.ts',
  'test/integration/metering-order.property.test.ts',
  'test/integration/agent-workspace.test.ts',
  'test/integration/billing-close.test.ts',
  'test/integration/multi-process.test.ts',
  'test/integration/redis-cluster.test.ts',
  'test/integration/slot-steps.test.ts',
  // Operators' records and tokens in steps; widget replies by pub/sub across the nodes.
  'test/integration/operators.test.ts',
  'test/integration/widget.test.ts',
  // A process stopped as it starts leaves nothing unhandled (a Cluster retries start-up checks).
  'test/integration/quick-close.test.ts',
];

export default defineConfig({
  test: {
    setupFiles: ['test/setup/no-network.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Two cores: more workers only contend with Redis and Chromium.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'redis',
          include: ['test/**/*.test.ts'],
          // Checks that only mean something on a Cluster.
          exclude: [...configDefaults.exclude, 'test/integration/redis-cluster.test.ts'],
          globalSetup: ['test/setup/redis-global.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'cluster',
          include: CLUSTER_SUITES,
          globalSetup: ['test/setup/redis-global.ts', 'test/setup/redis-cluster-global.ts'],
        },
      },
    ],
  },
});
