import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
// @ts-expect-error plain .mjs shared with `npm start`, no type declarations
import { buildService } from '../../scripts/lib/build-service.mjs';
// @ts-expect-error plain .mjs shared with `npm start`, no type declarations
import { freePort, startRedis } from '../../scripts/lib/redis-server.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/** One real, throw-away Redis on a free port for the whole run; never 6379. */
export default async function setup(project: TestProject) {
  // The tests that start whole processes run the service's build, as `npm start` does
  // (test/support/service-process.ts); built once for the run.
  await buildService();
  // In watch mode (`npx vitest`) a rerun follows an edit: those processes must run the edited
  // sources, as they did through tsx, not the build of the first run.
  project.onTestsRerun(async () => {
    await buildService();
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seatmate-test-redis-'));
  const redis = await startRedis({ port: await freePort(), dir, persist: false });
  project.provide('redisUrl', redis.url);
  return async () => {
    await redis.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
