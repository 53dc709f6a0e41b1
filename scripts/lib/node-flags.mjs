// V8 flags of the service's Node process, shared by `npm start` and `npm run bench:pipeline`
// so the benchmark measures what runs. See docs/architecture.md ("Pipeline performance").
export const SERVICE_NODE_FLAGS = [];
