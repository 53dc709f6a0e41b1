import { randomBytes } from 'node:crypto';
import type { ChainableCommander } from 'ioredis';
import type { Clock } from '../shared/clock';
import { AppError, notFound } from '../shared/errors';
import { inSteps, type RedisConnection, type RedisKeys } from '../shared/redis';
import { hashToken, newToken } from '../shared/tokens';

export interface Agent {
  id: string;
  name: string;
  shopIds: string[];
  createdAt: string;
}

/** Agents and their tokens; a token is stored only as its hash and shown once. */
export class AgentRegistry {
  /** Called after an update takes shops away from an agent (their kept events are dropped). */
  onShopsRemoved?: (agentId: string, shopIds: string[]) => Promise<void>;

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly clock: Clock,
    private readonly shopExists: (shopId: string) => Promise<boolean>,
  ) {}

  async create(input: { name: string; shopIds: string[] }): Promise<Agent & { token: string }> {
    await this.checkShops(input.shopIds);
    const id = `agt_${randomBytes(9).toString('base64url')}`;
    const token = newToken('agt');
    const agent: Agent = {
      id,
      name: input.name,
      shopIds: unique(input.shopIds),
      createdAt: new Date(this.clock.now()).toISOString(),
    };
    const tokenHash = hashToken(token);
    // The record first, then what points to it (token, indexes, the shops' agent sets).
    await inSteps(this.redis, [
      (tx) =>
        tx.hset(this.keys.agent(id), {
          name: agent.name,
          shopIds: JSON.stringify(agent.shopIds),
          createdAt: agent.createdAt,
          tokenHash,
        }),
      (tx) => tx.set(this.keys.token(tokenHash), JSON.stringify({ kind: 'agent', agentId: id })),
      (tx) => tx.sadd(this.keys.allAgents(), id),
      ...agent.shopIds.map(
        (shopId) => (tx: ChainableCommander) => tx.sadd(this.keys.shopAgents(shopId), id),
      ),
    ]);
    return { ...agent, token };
  }

  async get(id: string): Promise<Agent | null> {
    const [name, shopIds, createdAt] = await this.redis.hmget(
      this.keys.agent(id),
      'name',
      'shopIds',
      'createdAt',
    );
    if (!name || !shopIds || !createdAt) return null;
    return { id, name, shopIds: JSON.parse(shopIds) as string[], createdAt };
  }

  async update(id: string, patch: { name?: string; shopIds?: string[] }): Promise<Agent> {
    const agent = await this.get(id);
    if (!agent) throw notFound('Agent');
    const next: Agent = {
      ...agent,
      name: patch.name ?? agent.name,
      shopIds: patch.shopIds ? unique(patch.shopIds) : agent.shopIds,
    };
    if (patch.shopIds) await this.checkShops(next.shopIds);
    // The record says which shops; each shop's set follows (set adds and removes: a repeat is a no-op).
    await inSteps(this.redis, [
      (tx) =>
        tx.hset(this.keys.agent(id), {
          name: next.name,
          shopIds: JSON.stringify(next.shopIds),
        }),
      ...agent.shopIds
        .filter((shopId) => !next.shopIds.includes(shopId))
        .map((shopId) => (tx: ChainableCommander) => tx.srem(this.keys.shopAgents(shopId), id)),
      ...next.shopIds.map(
        (shopId) => (tx: ChainableCommander) => tx.sadd(this.keys.shopAgents(shopId), id),
      ),
    ]);
    const removed = agent.shopIds.filter((s) => !next.shopIds.includes(s));
    if (removed.length > 0) await this.onShopsRemoved?.(id, removed);
    return next;
  }

  /** A new token for the agent; the old one is refused from the next request on. Shown once. */
  async reissueToken(id: string): Promise<string> {
    if (!(await this.get(id))) throw notFound('Agent');
    const oldHash = await this.redis.hget(this.keys.agent(id), 'tokenHash');
    const token = newToken('agt');
    const tokenHash = hashToken(token);
    // New token, then the record names it, then the old one goes (never no working token).
    await inSteps(this.redis, [
      (tx) => tx.set(this.keys.token(tokenHash), JSON.stringify({ kind: 'agent', agentId: id })),
      (tx) => tx.hset(this.keys.agent(id), 'tokenHash', tokenHash),
      (tx) => oldHash && tx.del(this.keys.token(oldHash)),
    ]);
    return token;
  }

  /** Every agent, by id; pass every shop id to include agents older than the index. */
  async list(shopIds: readonly string[] = []): Promise<Agent[]> {
    // Agents created before the index existed are found through the shops they serve.
    const perShop = await Promise.all(shopIds.map((id) => this.agentsOfShop(id)));
    const indexed = await this.redis.smembers(this.keys.allAgents());
    const ids = [...new Set([...indexed, ...perShop.flat()])].sort();
    const all = await Promise.all(ids.map((id) => this.get(id)));
    return all.filter((a): a is Agent => a !== null);
  }

  /** Revokes the agent: its token stops working at once. */
  async remove(id: string): Promise<void> {
    const agent = await this.get(id);
    if (!agent) throw notFound('Agent');
    const tokenHash = await this.redis.hget(this.keys.agent(id), 'tokenHash');
    // The token first (access ends at once), then the indexes, the record last: stopped
    // halfway, a repeat finds the record and finishes.
    await inSteps(this.redis, [
      (tx) => tokenHash && tx.del(this.keys.token(tokenHash)),
      ...agent.shopIds.map(
        (shopId) => (tx: ChainableCommander) => tx.srem(this.keys.shopAgents(shopId), id),
      ),
      (tx) => tx.srem(this.keys.allAgents(), id),
      (tx) => tx.del(this.keys.agent(id)),
    ]);
  }

  /** The hash of the agent's one working token; null once revoked. */
  async tokenHashOf(id: string): Promise<string | null> {
    return this.redis.hget(this.keys.agent(id), 'tokenHash');
  }

  async agentsOfShop(shopId: string): Promise<string[]> {
    return this.redis.smembers(this.keys.shopAgents(shopId));
  }

  private async checkShops(shopIds: string[]): Promise<void> {
    for (const shopId of shopIds) {
      if (!(await this.shopExists(shopId))) {
        throw new AppError(400, 'unknown_shop', `shopIds: shop ${shopId} does not exist`, {
          details: { field: 'shopIds', shopId },
        });
      }
    }
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
