import { describe, expect, it } from 'vitest';
import { findPersonalData, redactPersonalData } from '../../../src/assist/personal-data';
import { readMessage } from '../../../src/assist/stage-classifier';
import {
  KeyedTextMemory,
  memoText,
  memoTextPer,
  TEXT_MEMORY_BOUNDS,
  TextMemory,
} from '../../../src/assist/text-memo';

describe('per-text memory of the assistant', () => {
  it('computes a text once, and starts over when full', () => {
    let calls = 0;
    const length = memoText((text: string) => {
      calls += 1;
      return text.length;
    }, 2);
    expect([length('ab'), length('ab'), length('abc')]).toEqual([2, 2, 3]);
    expect(calls).toBe(2);
    length('abcd'); // full: the memory is dropped, then holds this one
    length('ab');
    expect(calls).toBe(4);
  });

  it('holds no more characters than its budget and never a text longer than its limit', () => {
    const memory = new TextMemory<number>(100, 10, 4);
    memory.set('aaaa', 1);
    memory.set('bbbb', 2);
    expect([memory.get('aaaa'), memory.get('bbbb'), memory.size]).toEqual([1, 2, 2]);
    memory.set('cccc', 3); // 12 characters would pass the budget of 10: dropped whole first
    expect([memory.get('aaaa'), memory.get('cccc'), memory.size]).toEqual([undefined, 3, 1]);
    memory.set('ddddd', 4); // a paste longer than 4 characters is read afresh each time
    expect([memory.get('ddddd'), memory.size]).toEqual([undefined, 1]);
    memory.set('cccc', 5); // the same text again costs no budget
    expect([memory.get('cccc'), memory.size]).toEqual([5, 1]);
  });

  it('keeps the texts of each key apart and bounds them all together', () => {
    const memory = new KeyedTextMemory<string>();
    memory.set(1, 'M', 'one');
    memory.set(2, 'M', 'two');
    expect([memory.get(1, 'M'), memory.get(2, 'M'), memory.get(3, 'M')]).toEqual([
      'one',
      'two',
      undefined,
    ]);
    memory.set(1, 'x'.repeat(TEXT_MEMORY_BOUNDS.longest + 1), 'long');
    expect(memory.get(1, 'x'.repeat(TEXT_MEMORY_BOUNDS.longest + 1))).toBeUndefined();
    // Full over all keys together (two held so far): the next text drops every key's first.
    for (let i = 2; i < TEXT_MEMORY_BOUNDS.texts; i += 1) memory.set(i % 7, `t${i}`, 'v');
    expect(memory.get(1, 'M')).toBe('one');
    memory.set(8, 'last', 'v');
    expect([memory.get(1, 'M'), memory.get(2, 'M'), memory.get(8, 'last')]).toEqual([
      undefined,
      undefined,
      'v',
    ]);
  });

  it('computes a keyed text once per key', () => {
    const seen: string[] = [];
    const tagged = memoTextPer((key: string, text: string) => {
      seen.push(`${key}:${text}`);
      return `${key}:${text}`;
    });
    expect([tagged('a', 'x'), tagged('b', 'x'), tagged('a', 'x')]).toEqual(['a:x', 'b:x', 'a:x']);
    expect(seen).toEqual(['a:x', 'b:x']);
  });

  it('hands every caller its own list of personal data, the same each time', () => {
    const text = 'call me on 13812345678 please';
    const first = findPersonalData(text);
    first.push({ kind: 'email', value: 'x@example.com' });
    expect(findPersonalData(text)).toEqual([{ kind: 'phone', value: '13812345678' }]);
    expect(redactPersonalData(text)).toBe(redactPersonalData(text));
    expect(redactPersonalData(text)).not.toContain('13812345678');
  });

  it('reads the catalog part of a message afresh for each catalog', () => {
    const text = 'Do you have the Aurora lamp?';
    const withLamp = readMessage(text, (sentence) => sentence.includes('Aurora'));
    const without = readMessage(text, () => false);
    expect(withLamp.signals.has('asks_option')).toBe(true);
    expect(without.signals.has('asks_option')).toBe(false);
  });
});
