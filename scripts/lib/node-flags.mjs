// V8 flags of the service's Node process, shared by `npm start` and `npm run bench:pipeline`
// so the benchmark measures what runs. Measured at 1,000 msg/s (docs/architecture.md,
// "Pipeline performance"): by default V8 lets a busy process's heap grow far past what is
// live (old space 147 MB holding 38 MB) and keeps 16 MB semi-spaces, so each process sat at
// 290-310 MB RSS. A heap grown by at most 50% over the live size after each full GC and 8 MB
// semi-spaces hold it near 190 MB at no measurable CPU cost (4 MB semi-spaces and 30%
// saved 20 MB more but cost about 7% more CPU per message).
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=8', '--heap-growing-percent=50'];
