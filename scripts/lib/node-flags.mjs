// Node flags of the service's process, shared by `npm start`, `npm run bench:pipeline` and
// `npm run bench:ingest`, so the benchmarks measure what runs. Measured at 1,000 msg/s (docs/architecture.md,
// "Pipeline performance"): by default V8 lets a busy process's heap grow far past what is
// live (old space 147 MB holding 38 MB) and keeps 16 MB semi-spaces, so each process sat at
// 290-310 MB RSS. A heap grown by at most 50% over the live size after each full GC and 8 MB
// semi-spaces hold it near 190 MB at no measurable CPU cost (4 MB semi-spaces and 30%
// saved 20 MB more but cost about 7% more CPU per message).
// Source maps: the service runs from its build (scripts/lib/build-service.mjs), and a stack
// trace should name the TypeScript line, as it did when tsx ran the sources (tsx turns them on
// too). They cost only when a stack is printed.
export const SERVICE_NODE_FLAGS = [
  '--max-semi-space-size=8',
  '--heap-growing-percent=50',
  '--enable-source-maps',
];
