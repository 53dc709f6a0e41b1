import { createAssistant } from '../src/assist/assistant';
import { assistInputOf, loadCorpus } from '../src/assist/corpus';
import { asksForGiven, reoffersSettled } from '../src/assist/corpus-eval';
import { isInLocaleScript } from '../src/assist/locale-detection';

const a = createAssistant({ newId: () => 'x' });
for (const b of loadCorpus().filter((b) => b.split === 'train'))
  for (const item of b.items) {
    const r = await a.suggest(assistInputOf(item));
    const tags: string[] = [];
    for (const s of r.suggestions) {
      if (reoffersSettled(item, s.text, s.tactic)) tags.push(`REOFFER ${s.tactic}: ${s.text}`);
      if (asksForGiven(item, s.text)) tags.push(`ASKS ${s.tactic}: ${s.text}`);
    }
    if (r.locale !== item.expected.locale)
      tags.push(`LOCALE ${r.locale} want ${item.expected.locale} (shop ${item.input.locale})`);
    if (tags.length)
      console.log(
        item.id,
        JSON.stringify(item.expected.settled),
        item.expected.given,
        'state',
        JSON.stringify(r.state.settled),
        r.state.given,
        '\n   ',
        item.input.history
          .map((m) => `${m.from[0]}:${m.text}`)
          .join(' / ')
          .slice(0, 300),
        '\n   ',
        tags.join('\n    '),
      );
  }
