import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { redisLayoutTable } from '../../src/shared/redis-keys';

const root = path.resolve(__dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');
const sourceFiles = (dir: string): string[] =>
  fs
    .readdirSync(path.join(root, dir), { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory()
        ? sourceFiles(path.join(dir, entry.name))
        : entry.name.endsWith('.ts')
          ? [path.join(dir, entry.name)]
          : [],
    );

describe('the Redis data model has one home', () => {
  it("docs/architecture.md's Redis table is the one generated from src/shared/redis-keys.ts", () => {
    const doc = read('docs/architecture.md');
    const start = doc.indexOf('| key | type | what |');
    expect(start).toBeGreaterThan(0);
    const end = doc.indexOf('\n\n', start);
    expect(doc.slice(start, end)).toBe(redisLayoutTable());
  });

  it('metering never imports billing (metering is below billing)', () => {
    const offenders = sourceFiles('src/metering').filter((file) =>
      /from '\.\.\/billing\//.test(read(file)),
    );
    expect(offenders).toEqual([]);
  });

  it('every Lua script goes through the script registry (EVALSHA), none through EVAL', () => {
    const offenders = sourceFiles('src').filter((file) => /\.eval\(/.test(read(file)));
    expect(offenders).toEqual([]);
  });
});
