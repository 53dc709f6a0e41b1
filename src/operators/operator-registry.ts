import { randomBytes } from 'node:crypto';
import type { Clock } from '../shared/clock';
import { notFound } from '../shared/errors';
import { inSteps, type RedisConnection, type RedisKeys } from '../shared/redis';
import { hashToken, newToken } from '../shared/tokens';

export const OPERATOR_ROLES = ['admin', 'supervisor'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

export interface Operator {
  id: string;
  name: string;
  role: OperatorRole;
  createdAt: string;
}

/**
 * Named operators of the outsourcing desk. Like agents, a token is stored
 * only as its hash (under the shared token index, kind `operator`) and shown
 * once; the role is read on every request, so a change applies at once.
 */
export class OperatorRegistry {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly clock: Clock,
  ) {}

  private key(id: string): string {
    return this.keys.operator(id);
  }

  async create(input: { name: string; role: OperatorRole }): Promise<Operator & { token: string }> {
    const id = `opr_${randomBytes(9).toString('base64url')}`;
    const token = newToken('opr');
    const operator: Operator = {
      id,
      name: input.name,
      role: input.role,
      createdAt: new Date(this.clock.now()).toISOString(),
    };
    const tokenHash = hashToken(token);
    // The record first, then its token and the index (see `inSteps`).
    await inSteps(this.redis, [
      (tx) => tx.hset(this.key(id), { ...operator, tokenHash }),
      (tx) =>
        tx.set(this.keys.token(tokenHash), JSON.stringify({ kind: 'operator', operatorId: id })),
      (tx) => tx.sadd(this.keys.allOperators(), id),
    ]);
    return { ...operator, token };
  }

  async get(id: string): Promise<Operator | null> {
    const [name, role, createdAt] = await this.redis.hmget(
      this.key(id),
      'name',
      'role',
      'createdAt',
    );
    if (!name || !role || !createdAt) return null;
    return { id, name, role: role as OperatorRole, createdAt };
  }

  async list(): Promise<Operator[]> {
    const ids = (await this.redis.smembers(this.keys.allOperators())).sort();
    const all = await Promise.all(ids.map((id) => this.get(id)));
    return all.filter((o): o is Operator => o !== null);
  }

  async update(id: string, patch: { name?: string; role?: OperatorRole }): Promise<Operator> {
    const operator = await this.get(id);
    if (!operator) throw notFound('Operator');
    const next = {
      ...operator,
      name: patch.name ?? operator.name,
      role: patch.role ?? operator.role,
    };
    await this.redis.hset(this.key(id), { name: next.name, role: next.role });
    return next;
  }

  /** Revokes the operator: the token stops working on the next request. */
  async remove(id: string): Promise<Operator> {
    const operator = await this.get(id);
    if (!operator) throw notFound('Operator');
    const tokenHash = await this.redis.hget(this.key(id), 'tokenHash');
    // The token first (access ends at once), the record last, so a repeat can finish.
    await inSteps(this.redis, [
      (tx) => tokenHash && tx.del(this.keys.token(tokenHash)),
      (tx) => tx.srem(this.keys.allOperators(), id),
      (tx) => tx.del(this.key(id)),
    ]);
    return operator;
  }
}
