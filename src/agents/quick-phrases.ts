import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../shared/clock';
import { AppError, notFound } from '../shared/errors';
import type { RedisConnection, RedisKeys } from '../shared/redis';
import { defineScript } from '../shared/redis-scripts';

/** Phrases one scope (a shop, or one agent) may hold. */
export const MAX_PHRASES_PER_SCOPE = 200;

export interface QuickPhrase {
  id: string;
  shortcut: string;
  text: string;
}

/** A phrase as an agent sees it: their own (`personal`) or one of a shop they serve. */
export type ScopedPhrase = QuickPhrase &
  ({ scope: 'personal' } | { scope: 'shop'; shopId: string });

const shortcut = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(32, 'must be at most 32 characters')
  .regex(/^[^\s/]+$/, 'must be one word without spaces or "/" (typed after "/" in the composer)');
const text = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(2000, 'must be at most 2000 characters (one chat message)');

export const createPhraseSchema = z.object({ shortcut, text }).strict();
export const updatePhraseSchema = z
  .object({ shortcut: shortcut.optional(), text: text.optional() })
  .strict()
  .refine((p) => p.shortcut !== undefined || p.text !== undefined, {
    message: 'give shortcut, text or both',
  });

interface StoredPhrase extends QuickPhrase {
  /** The shortcut as compared for uniqueness: case and width folded. */
  match: string;
  createdAt: number;
}

// Writes one phrase of a scope unless another phrase of the scope has the
// same shortcut, or the scope is full. KEYS[1] = the scope's hash (id ->
// JSON); ARGV = id, JSON, folded shortcut, max, create ('1') or update ('0').
// A stored phrase Lua's JSON cannot read (an unpaired surrogate escape, taken
// before the API refused them) is skipped, not an error for the whole scope.
const SAVE_PHRASE = defineScript<string>(
  'quickPhraseSave',
  `
local exists = redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1
if ARGV[5] == '1' and exists then return 'exists' end
if ARGV[5] == '0' and not exists then return 'missing' end
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if all[i] ~= ARGV[1] then
    local read, phrase = pcall(cjson.decode, all[i + 1])
    if read and phrase.match == ARGV[3] then return 'taken' end
  end
end
if not exists and #all / 2 >= tonumber(ARGV[4]) then return 'full' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 'ok'
`,
);

function fold(value: string): string {
  return value.normalize('NFKC').toLowerCase();
}

/**
 * Quick phrases (快捷短语): shop-wide ones the operator manages, personal ones
 * each agent keeps. A shortcut is unique within its scope (case-insensitive).
 */
export class QuickPhrases {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly clock: Clock,
  ) {}

  private scopeKey(scope: { shopId: string } | { agentId: string }): string {
    return 'shopId' in scope
      ? this.keys.shopQuickPhrases(scope.shopId)
      : this.keys.agentQuickPhrases(scope.agentId);
  }

  async list(scope: { shopId: string } | { agentId: string }): Promise<QuickPhrase[]> {
    const raw = await this.redis.hvals(this.scopeKey(scope));
    return raw
      .map((entry) => JSON.parse(entry) as StoredPhrase)
      .sort((a, b) => a.shortcut.localeCompare(b.shortcut) || a.createdAt - b.createdAt)
      .map(({ id, shortcut, text }) => ({ id, shortcut, text }));
  }

  /** The agent's own phrases, then those of each of their shops, scope marked. */
  async forAgent(agentId: string, shopIds: string[]): Promise<ScopedPhrase[]> {
    const own = (await this.list({ agentId })).map((p) => ({ ...p, scope: 'personal' as const }));
    const shops = await Promise.all(
      shopIds.map(async (shopId) =>
        (await this.list({ shopId })).map((p) => ({ ...p, scope: 'shop' as const, shopId })),
      ),
    );
    return [...own, ...shops.flat()];
  }

  async create(
    scope: { shopId: string } | { agentId: string },
    input: { shortcut: string; text: string },
  ): Promise<QuickPhrase> {
    const phrase: StoredPhrase = {
      id: `qp_${randomBytes(9).toString('base64url')}`,
      shortcut: input.shortcut,
      text: input.text,
      match: fold(input.shortcut),
      createdAt: this.clock.now(),
    };
    await this.save(scope, phrase, true);
    return { id: phrase.id, shortcut: phrase.shortcut, text: phrase.text };
  }

  async update(
    scope: { shopId: string } | { agentId: string },
    id: string,
    patch: { shortcut?: string; text?: string },
  ): Promise<QuickPhrase> {
    const raw = await this.redis.hget(this.scopeKey(scope), id);
    if (!raw) throw notFound('Quick phrase');
    const current = JSON.parse(raw) as StoredPhrase;
    const next: StoredPhrase = {
      ...current,
      shortcut: patch.shortcut ?? current.shortcut,
      text: patch.text ?? current.text,
      match: fold(patch.shortcut ?? current.shortcut),
    };
    await this.save(scope, next, false);
    return { id: next.id, shortcut: next.shortcut, text: next.text };
  }

  async remove(scope: { shopId: string } | { agentId: string }, id: string): Promise<void> {
    if ((await this.redis.hdel(this.scopeKey(scope), id)) === 0) throw notFound('Quick phrase');
  }

  /** Drops every phrase of the scope (an agent revoked, a shop removed). */
  async clear(scope: { shopId: string } | { agentId: string }): Promise<void> {
    await this.redis.del(this.scopeKey(scope));
  }

  private async save(
    scope: { shopId: string } | { agentId: string },
    phrase: StoredPhrase,
    create: boolean,
  ): Promise<void> {
    const result = await SAVE_PHRASE.run(
      this.redis,
      [this.scopeKey(scope)],
      [phrase.id, JSON.stringify(phrase), phrase.match, MAX_PHRASES_PER_SCOPE, create ? '1' : '0'],
    );
    if (result === 'taken')
      throw new AppError(
        409,
        'shortcut_taken',
        `shortcut: "${phrase.shortcut}" is already used by another phrase here.`,
        { details: { field: 'shortcut' } },
      );
    if (result === 'full')
      throw new AppError(
        409,
        'too_many_phrases',
        `At most ${MAX_PHRASES_PER_SCOPE} quick phrases per shop or agent; delete one first.`,
        { details: { limit: MAX_PHRASES_PER_SCOPE } },
      );
    if (result === 'missing') throw notFound('Quick phrase');
    if (result !== 'ok') throw new Error(`quick phrase not saved: ${result}`);
  }
}
