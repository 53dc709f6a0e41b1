import type { RedisConnection, RedisKeys } from '../shared/redis';

/** Suggestions are looked up for a week after they were shown. */
const SUGGESTION_TTL_SECONDS = 7 * 86_400;

/**
 * Every suggestion shown, by id, so a reply can be recorded as sent as is,
 * edited, or the agent's own, and so a suggestion id from another
 * conversation is not accepted.
 */
export class SuggestionIndex {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
  ) {}

  private key(shopId: string, suggestionId: string): string {
    return this.keys.suggestion(shopId, suggestionId);
  }

  async remember(
    shopId: string,
    conversationId: string,
    suggestions: Array<{ id: string; text: string; tactic: string }>,
  ): Promise<void> {
    if (suggestions.length === 0) return;
    // Plain commands: they join the job's other writes of the turn (`batchWrites`).
    await Promise.all(
      suggestions.map((s) =>
        this.redis.set(
          this.key(shopId, s.id),
          JSON.stringify({ conversationId, text: s.text, tactic: s.tactic }),
          'EX',
          SUGGESTION_TTL_SECONDS,
        ),
      ),
    );
  }

  async get(
    shopId: string,
    suggestionId: string,
  ): Promise<{ conversationId: string; text: string; tactic: string } | null> {
    const raw = await this.redis.get(this.key(shopId, suggestionId));
    return raw ? JSON.parse(raw) : null;
  }
}
