import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ASSIST_DIR = fileURLToPath(new URL('../../../src/assist/', import.meta.url));

/** Every relative import (type-only ones included) of each module in src/assist, by file name. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of readdirSync(ASSIST_DIR).filter((f) => f.endsWith('.ts'))) {
    const source = readFileSync(path.join(ASSIST_DIR, file), 'utf8');
    const targets = [...source.matchAll(/from\s+'\.\/([\w-]+)'/g)].map((m) => `${m[1]}.ts`);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** One cycle, as the path that closes it, or null. */
function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'open') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of [...graph.keys()].sort()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

/** The modules above the assistant: they start it on a thread of its own. */
const RUNS_THE_ASSISTANT = new Set(['assist-thread.ts', 'threaded-assistant.ts']);

describe('src/assist import graph', () => {
  it('has no import cycles, type-only imports included', () => {
    expect(findCycle(importGraph())).toBeNull();
  });

  it('finds a cycle when there is one (the check itself works)', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
    ]);
    expect(findCycle(graph)).toEqual(['a.ts', 'b.ts', 'c.ts', 'a.ts']);
  });

  it('takes the shared vocabulary from one file that imports nothing else of assist', () => {
    const graph = importGraph();
    expect(graph.get('vocabulary.ts')).toEqual([]);
    for (const [file, targets] of graph) {
      if (file === 'vocabulary.ts') continue;
      const source = readFileSync(path.join(ASSIST_DIR, file), 'utf8');
      // Stage, tactic, locale... are declared once: nobody else spells out the union.
      expect(source, file).not.toMatch(
        /export (?:type|const) (?:Stage|Tactic|Locale|Sentiment|Intent)\b/,
      );
      // The assistant's thread and its main-thread side run the assistant itself; the rest of
      // assist sits below it.
      if (!RUNS_THE_ASSISTANT.has(file)) expect(targets, file).not.toContain('assistant.ts');
    }
    for (const file of RUNS_THE_ASSISTANT) expect(graph.get(file), file).toContain('assistant.ts');
  });
});
