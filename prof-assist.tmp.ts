import { createAssistant } from './src/assist/assistant';

const a = createAssistant({});
const texts = [
  '您好，这款有灰色吗？',
  '请问什么时候发货？',
  'Is this available in size M?',
  '可以便宜一点吗',
  'How long does shipping take to Shanghai?',
  '这个和那个有什么区别',
];
const now = Date.now();
const history = Array.from({ length: 20 }, (_, i) => ({
  from: 'buyer' as const,
  text: texts[i % 6]!,
  at: new Date(now - (20 - i) * 1000).toISOString(),
}));
const input = {
  history,
  catalog: undefined,
  settings: { busyNudge: false, locale: 'zh-Hans', linkDomains: [] },
};
for (let i = 0; i < 200; i++) await a.suggest(input as never);
const N = Number(process.argv[2] ?? 2000);
const t0 = performance.now();
for (let i = 0; i < N; i++) await a.suggest(input as never);
console.log('ms per suggest', ((performance.now() - t0) / N).toFixed(3));
