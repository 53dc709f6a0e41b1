import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { runAssistEval } from '../../../scripts/lib/assist-eval';
import { loadCorpus } from '../../../src/assist/corpus';
import { chatCompletion } from '../../fixtures/assist/chat-completion';

/** `npm run eval:assist -- --engine openai` against a stand-in OpenAI-compatible endpoint (no real key here). */

const REPLIES: Record<string, string> = {
  'zh-Hans': '您好，我马上帮您确认一下，请稍等～',
  'zh-Hant': '您好，我馬上幫您確認一下，請稍等～',
  en: "Thanks for your message, I'm checking this for you right now.",
};

function answerInTheAskedLocale(_uri: string, body: { messages: Array<{ content: string }> }) {
  const user = body.messages.at(-1)?.content ?? '';
  const locale = /"replyLocale":"([^"]+)"/.exec(user)?.[1] ?? 'en';
  return chatCompletion(
    JSON.stringify({
      stage: 'interested',
      intent: 'general',
      sentiment: 'neutral',
      signals: [],
      suggestions: [{ text: REPLIES[locale], tactic: 'answer' }],
    }),
  );
}

afterEach(() => nock.cleanAll());

describe('eval:assist --engine openai', () => {
  it('scores an OpenAI-compatible endpoint on the locked split with the same table', async () => {
    const scope = nock('http://llm.test')
      .post('/v1/chat/completions')
      .times(8)
      .reply(200, answerInTheAskedLocale);
    const lines: string[] = [];
    const report = await runAssistEval({
      engine: 'openai',
      reader: 'model',
      split: 'test',
      timingRuns: 0,
      limit: 4,
      openai: {
        apiKey: 'sk-test',
        baseURL: 'http://llm.test/v1',
        model: 'qwen-test',
        timeoutMs: 2_000,
      },
      print: (line) => lines.push(line),
    });
    expect(scope.isDone()).toBe(true);
    const out = lines.join('\n');
    expect(out).toContain('engine openai (qwen-test at http://llm.test/v1)');
    expect(out).toMatch(/ALL\s+n=\s+4\s+stage/);
    expect(out).toContain('confusion matrix');
    expect(out).toContain('first-contact history');
    expect(report.summary.n).toBe(4);
    // The stand-in always says "interested": the table scores the model's stage, not the reader's.
    const first4 = loadCorpus()
      .filter((b) => b.split === 'test')
      .flatMap((b) => b.items)
      .slice(0, 4);
    const interested = first4.filter((i) => i.expected.stage === 'interested').length;
    expect(report.summary.stageAccuracy).toBe(interested / 4);
    expect(report.fallbacks).toEqual({});
    expect(report.violations).toEqual([]);
  });

  it('reports the fallbacks when the endpoint fails', async () => {
    nock('http://llm.test').post('/v1/chat/completions').times(4).reply(500, { error: 'down' });
    const report = await runAssistEval({
      engine: 'openai',
      reader: 'model',
      split: 'test',
      timingRuns: 0,
      limit: 2,
      openai: { apiKey: 'sk-test', baseURL: 'http://llm.test/v1', model: 'm', timeoutMs: 2_000 },
      print: () => {},
    });
    // Two corpus conversations (the fixtures pass is reported apart).
    expect(report.fallbacks).toEqual({ error: 2 });
  });
});
