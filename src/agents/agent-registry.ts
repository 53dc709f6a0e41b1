import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../shared/clock';
import { AppError, notFound } from '../shared/errors';
import type { RedisKeys } from '../shared/redis';
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
    private readonly redis: Redis,
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
    const tx = this.redis
      .multi()
      .hset(this.keys.agent(id), {
        name: agent.name,
        shopIds: JSON.stringify(agent.shopIds),
        createdAt: agent.createdAt,
        tokenHash,
      })
      .set(this.keys.token(tokenHash), JSON.stringify({ kind: 'agent', agentId: id }))
      .sadd(this.keys.allAgents(), id);
    for (const shopId of agent.shopIds) tx.sadd(this.keys.shopAgents(shopId), id);
    await tx.exec();
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
    const tx = this.redis.multi().hset(this.keys.agent(id), {
      name: next.name,
      shopIds: JSON.stringify(next.shopIds),
    });
    for (const shopId of agent.shopIds)
      if (!next.shopIds.includes(shopId)) tx.srem(this.keys.shopAgents(shopId), id);
    for (const shopId of next.shopIds) tx.sadd(this.keys.shopAgents(shopId), id);
    await tx.exec();
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
    const tx = this.redis.multi();
    if (oldHash) tx.del(this.keys.token(oldHash));
    await tx
      .set(this.keys.token(tokenHash), JSON.stringify({ kind: 'agent', agentId: id }))
      .hset(this.keys.agent(id), 'tokenHash', tokenHash)
      .exec();
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
    const tx = this.redis.multi().del(this.keys.agent(id)).srem(this.keys.allAgents(), id);
    if (tokenHash) tx.del(this.keys.token(tokenHash));
    for (const shopId of agent.shopIds) tx.srem(this.keys.shopAgents(shopId), id);
    await tx.exec();
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
