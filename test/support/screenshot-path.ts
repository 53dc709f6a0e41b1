import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DOCS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs');

/**
 * Where a page test saves its screenshot: the committed one under docs/ when
 * run with UPDATE_SCREENSHOTS=1 (`npm run screenshots`), otherwise a temporary
 * file, so an ordinary test run leaves the work tree clean.
 */
export function screenshotPath(name: string): string {
  return process.env.UPDATE_SCREENSHOTS === '1'
    ? path.join(DOCS, name)
    : path.join(os.tmpdir(), `seatmate-${name}`);
}
