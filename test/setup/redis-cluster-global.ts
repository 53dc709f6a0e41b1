import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
// @ts-expect-error plain .mjs shared with the benchmarks, no type declarations
import { startCluster } from '../../scripts/lib/redis-server.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Seed nodes of the run's Redis Cluster (`host:port,…`), for the `cluster` project only. */
    redisClusterNodes?: string;
  }
}

/** A throw-away three-master Redis Cluster on free ports for the run of the `cluster` project. */
export default async function setup(project: TestProject) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seatmate-test-cluster-'));
  const cluster = await startCluster({ dir, masters: 3 });
  project.provide('redisClusterNodes', cluster.nodes);
  return async () => {
    await cluster.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
