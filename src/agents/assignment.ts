import type { RedisConnection, RedisKeys } from '../shared/redis';
import { defineScript } from '../shared/redis-scripts';

// Offer a conversation to the candidate with the fewest open conversations,
// under the cap, atomically. KEYS[1] = owner key, KEYS[2..] = candidates' open
// sets; ARGV[1] = cap, ARGV[2] = conversation id, ARGV[3..] = candidate ids.
const OFFER_SCRIPT = defineScript<string | null>(
  'assignOffer',
  `
local owner = redis.call('GET', KEYS[1])
if owner then
  for i = 3, #ARGV do if ARGV[i] == owner then return owner end end
end
local best, bestCount = nil, nil
for i = 2, #KEYS do
  local count = redis.call('SCARD', KEYS[i])
  if count < tonumber(ARGV[1]) and (bestCount == nil or count < bestCount) then best, bestCount = i, count end
end
if not best then return false end
local agent = ARGV[best + 1]
redis.call('SET', KEYS[1], agent)
redis.call('SADD', KEYS[best], ARGV[2])
return agent
`,
);

// Claim for one agent unless another agent already holds the conversation.
// KEYS[1] = owner key, KEYS[2] = claimer's open set; ARGV[1] = agent, ARGV[2] = conversation.
const CLAIM_SCRIPT = defineScript<[number, string]>(
  'assignClaim',
  `
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then return {0, owner} end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return {1, ARGV[1]}
`,
);

// Moves a conversation from its holder to another agent, only if `from` still
// holds it. KEYS[1] = owner key, KEYS[2] = from's open set, KEYS[3] = to's;
// ARGV = from, to, conversation.
const MOVE_SCRIPT = defineScript<number>(
  'assignMove',
  `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SREM', KEYS[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[3])
return 1
`,
);

// Frees a conversation only if `owner` still holds it. KEYS[1] = owner key, KEYS[2] = the
// owner's open set; ARGV = owner, conversation.
const RELEASE_IF_SCRIPT = defineScript<number>(
  'assignReleaseIf',
  `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[2])
return 1
`,
);

/**
 * Who answers which conversation. All keys carry one hash tag, so the
 * scripts stay legal on a Redis Cluster even though agents span shops.
 */
export class Assignment {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    /** Open conversations one agent is offered at most (claims and transfers may exceed it). */
    readonly cap: number,
  ) {}

  private ownerKey(conversationId: string): string {
    return this.keys.assignOwner(conversationId);
  }

  private openKey(agentId: string): string {
    return this.keys.assignOpen(agentId);
  }

  /** Offers the conversation to the least-loaded candidate under the cap; null when all are full or there are none. */
  async offer(
    conversationId: string,
    candidates: string[],
    /** The owner, when the caller has just read it. */
    knownOwner?: string | null,
  ): Promise<string | null> {
    const current = knownOwner === undefined ? await this.ownerOf(conversationId) : knownOwner;
    // The holder no longer serves this shop, or is not online: free the conversation before re-offering it.
    if (current && !candidates.includes(current)) await this.release(conversationId);
    if (candidates.length === 0) return null;
    const sorted = [...candidates].sort();
    const result = await OFFER_SCRIPT.run(
      this.redis,
      [this.ownerKey(conversationId), ...sorted.map((id) => this.openKey(id))],
      [String(this.cap), conversationId, ...sorted],
    );
    return typeof result === 'string' ? result : null;
  }

  /** Atomically makes `agentId` the one answering; fails if another agent holds it. */
  async claim(
    conversationId: string,
    agentId: string,
  ): Promise<{ claimed: true } | { claimed: false; heldBy: string }> {
    const [ok, owner] = await CLAIM_SCRIPT.run(
      this.redis,
      [this.ownerKey(conversationId), this.openKey(agentId)],
      [agentId, conversationId],
    );
    return ok === 1 ? { claimed: true } : { claimed: false, heldBy: owner };
  }

  /** Hands the conversation from `from` to `to`; false when `from` no longer holds it. */
  async move(conversationId: string, from: string, to: string): Promise<boolean> {
    const moved = await MOVE_SCRIPT.run(
      this.redis,
      [this.ownerKey(conversationId), this.openKey(from), this.openKey(to)],
      [from, to, conversationId],
    );
    return moved === 1;
  }

  /** The conversations the agent holds. */
  async heldBy(agentId: string): Promise<string[]> {
    return this.redis.smembers(this.openKey(agentId));
  }

  async ownerOf(conversationId: string): Promise<string | null> {
    return this.redis.get(this.ownerKey(conversationId));
  }

  /** Frees the conversation (closed, or its agent no longer serves the shop). */
  async release(conversationId: string): Promise<void> {
    const owner = await this.ownerOf(conversationId);
    const tx = this.redis.multi().del(this.ownerKey(conversationId));
    if (owner) tx.srem(this.openKey(owner), conversationId);
    await tx.exec();
  }

  /** Frees the conversation if `owner` still holds it; false when someone else does now. */
  async releaseIf(conversationId: string, owner: string): Promise<boolean> {
    const released = await RELEASE_IF_SCRIPT.run(
      this.redis,
      [this.ownerKey(conversationId), this.openKey(owner)],
      [owner, conversationId],
    );
    return released === 1;
  }

  async openCount(agentId: string): Promise<number> {
    return this.redis.scard(this.openKey(agentId));
  }

  async openCounts(agentIds: string[]): Promise<number[]> {
    if (agentIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of agentIds) pipeline.scard(this.openKey(id));
    const results = (await pipeline.exec()) ?? [];
    return results.map(([, count]) => Number(count ?? 0));
  }
}
