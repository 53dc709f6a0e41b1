import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCorpus } from '../../../src/assist/corpus';
import { normalise } from '../../../src/assist/features';
import { createReader, loadReader, MODEL_URL } from '../../../src/assist/reader';
import { readerModelSchema } from '../../../src/assist/reader-model';
import {
  DEFAULT_TRAINING,
  type TrainingExample,
  trainReader,
} from '../../../src/assist/reader-training';
import type { ChatMessage, Stage } from '../../../src/assist/vocabulary';

const buyer = (text: string): ChatMessage => ({ from: 'buyer', text });

/** A tiny sample: training on the real corpus runs in `npm run train:assist`, not in the test suite. */
const SAMPLE: Array<[string, Stage]> = [
  ['这件有黑色吗', 'interested'],
  ['有没有白色的', 'interested'],
  ['M码还有吗', 'interested'],
  ['does it come in blue', 'interested'],
  ['收到的杯子碎了，太失望了', 'complaint'],
  ['发错货了，我要投诉', 'complaint'],
  ['the item arrived broken, terrible', 'complaint'],
  ['收到貨是壞的，好失望', 'complaint'],
  ['怎么下单', 'ready'],
  ['我要了，怎么付款', 'ready'],
  ['ok I will take it, how do I pay', 'ready'],
  ['拍下了怎么付款', 'ready'],
];
const examples: TrainingExample[] = SAMPLE.map(([text, stage], i) => ({
  id: `t${String(i).padStart(2, '0')}`,
  history: [buyer(text)],
  stage,
}));
const options = { ...DEFAULT_TRAINING, folds: 0, epochs: 20, minCount: 1 };

describe('the learned reader', () => {
  it('normalises script, case, digits and emoji before reading', () => {
    expect(normalise('這件衣服 OK 嗎？１３８00001111 😀😀')).toBe('这件衣服 ok 吗?# ☺☺');
  });

  it('learns stages from a tiny sample and reads unseen phrasing of the same kind', () => {
    const { model } = trainReader(examples, { batches: [], fixtures: 0 }, options);
    const reader = createReader(readerModelSchema.parse(model));
    expect(reader.read([buyer('收到的盘子碎了')]).stage).toBe('complaint');
    expect(reader.read([buyer('有红色吗')]).stage).toBe('interested');
    const read = reader.read([buyer('怎么付款呀')]);
    expect(read.stage).toBe('ready');
    const total = Object.values(read.stageProbabilities).reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(1, 6);
    expect(read.confidence).toBe(read.stageProbabilities.ready);
  });

  it('refuses a model file whose weights do not fit its features, or of another format', () => {
    const { model } = trainReader(examples, { batches: [], fixtures: 0 }, options);
    const short = { ...model, features: model.features.slice(1) };
    expect(() => createReader(short)).toThrow(/stage head does not fit/);
    expect(() => createReader({ ...model, format: 'other/9' } as never)).toThrow(/reads/);
  });

  it('trains deterministically: the same sample gives the same model file', () => {
    const a = trainReader(examples, { batches: [], fixtures: 0 }, options).model;
    const b = trainReader([...examples].reverse(), { batches: [], fixtures: 0 }, options).model;
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('ships a committed model that parses, was trained on train batches only, and is small', () => {
    const reader = loadReader();
    expect(reader).not.toBeNull();
    const trainBatches = new Set(
      loadCorpus()
        .filter((b) => b.split === 'train')
        .map((b) => b.name),
    );
    const model = readerModelSchema.parse(JSON.parse(readFileSync(MODEL_URL, 'utf8')));
    for (const batch of model.trainedOn.batches) {
      expect(batch).not.toMatch(/-test-/);
      expect(trainBatches.has(batch), batch).toBe(true);
    }
    expect(JSON.stringify(model).length).toBeLessThan(5 * 1024 * 1024);
  });
});
