// The assist thread run from the TypeScript sources (tests, tsx; see assist-thread-entry.ts).
// A worker thread does not take tsx's loader from the parent's command line, so it registers
// it here before loading the thread's module.
import { register } from 'tsx/esm/api';

register();
await import('./assist-thread.ts');
