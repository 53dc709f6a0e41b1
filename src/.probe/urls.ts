import { existsSync } from 'node:fs';
import { FEW_SHOT_URL, createOpenAIEngine } from '../assist/openai-engine';
import { MODEL_URL } from '../assist/reader';
for (const u of [FEW_SHOT_URL, MODEL_URL]) console.log(u.href, existsSync(u));
const engine = createOpenAIEngine({ apiKey: 'sk-x', model: 'm', timeoutMs: 1000 } as never);
console.log('engine created', typeof engine.draft);
