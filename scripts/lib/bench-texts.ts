// The buyers' messages of the pipeline benchmarks (bench:pipeline, bench:assist-thread) and of
// assist:digest's bench-shaped part.
import type { ChatMessage } from '../../src/assist/assistant';

const TEXTS = [
  '您好，这款有灰色吗？',
  '请问什么时候发货？',
  'Is this available in size M?',
  '可以便宜一点吗',
  'How long does shipping take to Shanghai?',
  '这个和那个有什么区别',
];

const FOLLOW_UPS = ['', '', ' 谢谢', ' 急用', ' thanks', '？？', ' 我想今天下单'];
/**
 * Buyers do not all write the same six lines: a third of the messages carry an order
 * number of their own (a text never seen before), the rest are one of 42 combinations,
 * so per-text memories in the assist engine are not flattered.
 */
export function benchText(n: number): string {
  const text = `${TEXTS[n % TEXTS.length]}${FOLLOW_UPS[n % FOLLOW_UPS.length]}`;
  return n % 3 === 0 ? `${text} 订单号 ${1_000_000 + ((n * 7919) % 9_000_000)}` : text;
}

/**
 * Bench-shaped conversations: message `n` is `benchText(n)` from buyer `n % buyers`, each buyer
 * keeping their last 20 messages, as the worker hands the assistant. Returns that buyer's
 * history after the message (a copy: the next call goes on from it).
 */
export function benchConversations(buyers: number): (n: number) => ChatMessage[] {
  const histories = new Map<number, ChatMessage[]>();
  return (n) => {
    const history = histories.get(n % buyers) ?? [];
    history.push({
      from: 'buyer',
      text: benchText(n),
      at: new Date(1.7e12 + n * 1000).toISOString(),
    });
    if (history.length > 20) history.shift();
    histories.set(n % buyers, history);
    return [...history];
  };
}
