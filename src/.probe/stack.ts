import { AppError } from '../shared/errors';
import '../app/container';
function deep(n: number): Error { return n === 0 ? new AppError(503, 'x', 'y') : deep(n - 1); }
function plain(n: number): Error { return n === 0 ? new Error('y') : plain(n - 1); }
function bench(name: string, f: () => Error) {
  const N = 20000;
  const t = performance.now();
  for (let i = 0; i < N; i++) f();
  console.log(`${name}: ${(((performance.now() - t) / N) * 1000).toFixed(1)} us`, Error.stackTraceLimit, typeof Error.prepareStackTrace);
}
setTimeout(() => { bench('AppError', () => deep(3)); bench('Error', () => plain(3)); bench('AppError', () => deep(3)); }, 10);
