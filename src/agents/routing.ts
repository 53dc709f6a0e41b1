import {
  type ConversationStore,
  conversationId as conversationIdOf,
  parseConversationId,
} from '../conversations/conversation-store';
import type { AgentEvents } from './agent-events';
import type { AgentRegistry } from './agent-registry';
import type { Assignment } from './assignment';
import type { PresenceStatus } from './live-events';
import type { Presence } from './presence';

/**
 * Which agent a waiting buyer goes to, given who is online: new buyers to
 * the least-loaded online agent of the shop; an agent going away or offline
 * hands their waiting buyers to an online colleague (or leaves them
 * unassigned); an agent coming online picks up the buyers nobody online holds.
 */
export class Routing {
  constructor(
    private readonly deps: {
      agents: AgentRegistry;
      presence: Presence;
      assignment: Assignment;
      conversations: ConversationStore;
      events: AgentEvents;
    },
  ) {}

  async onlineAgentsOf(shopId: string): Promise<string[]> {
    return this.deps.presence.online(await this.deps.agents.agentsOfShop(shopId));
  }

  /**
   * Offers a waiting buyer to the least-loaded online agent of the shop;
   * publishes a change of hands. `known`: the shop's agents and the current
   * owner when the caller has just read them. A holder who is online keeps
   * the conversation without running the offer script (the usual case: a
   * buyer writing again).
   */
  async offer(
    shopId: string,
    conversationId: string,
    known?: { agents: string[]; owner: string | null },
  ): Promise<string | null> {
    const { assignment, events } = this.deps;
    const [shopAgents, before] = known
      ? [known.agents, known.owner]
      : await Promise.all([
          this.deps.agents.agentsOfShop(shopId),
          assignment.ownerOf(conversationId),
        ]);
    const online = await this.deps.presence.online(shopAgents);
    if (before && online.includes(before)) return before;
    const owner = await assignment.offer(conversationId, online, before);
    if (owner && owner !== before)
      await events.publish(
        shopId,
        'conversation',
        {
          conversationId,
          change: 'assigned',
          agentId: owner,
          fromAgentId: before,
          reason: before ? 'offline' : 'offered',
        },
        shopAgents,
      );
    else if (!owner && before && (await assignment.ownerOf(conversationId)) === null)
      await events.publish(
        shopId,
        'conversation',
        {
          conversationId,
          change: 'unassigned',
          fromAgentId: before,
          reason: 'offline',
        },
        shopAgents,
      );
    return owner;
  }

  /** The agent's stated status changed, or they were not seen for too long. */
  async presenceChanged(agentId: string, status: PresenceStatus): Promise<void> {
    await this.announce(agentId, status);
    if (status === 'online') await this.pickUp(agentId);
    else await this.handOver(agentId, status);
  }

  /** Moves the agent's waiting (unanswered) buyers to online colleagues, or leaves them unassigned. */
  async handOver(agentId: string, reason: Exclude<PresenceStatus, 'online'>): Promise<number> {
    const { assignment, conversations, events } = this.deps;
    let moved = 0;
    for (const id of await assignment.heldBy(agentId)) {
      const { shopId, buyerId } = parseConversationId(id);
      if ((await conversations.state(shopId, buyerId)).waitingSince === undefined) continue;
      const colleagues = (await this.onlineAgentsOf(shopId)).filter((a) => a !== agentId);
      const counts = await assignment.openCounts(colleagues);
      const ranked = colleagues
        .map((a, i) => ({ a, n: counts[i] ?? 0 }))
        .sort((x, y) => x.n - y.n || x.a.localeCompare(y.a));
      const to = ranked.find((c) => c.n < assignment.cap)?.a;
      if (to && (await assignment.move(id, agentId, to))) {
        moved += 1;
        await events.publish(shopId, 'conversation', {
          conversationId: id,
          change: 'assigned',
          agentId: to,
          fromAgentId: agentId,
          reason,
        });
      } else if (!to && (await assignment.ownerOf(id)) === agentId) {
        await assignment.release(id);
        await events.publish(shopId, 'conversation', {
          conversationId: id,
          change: 'unassigned',
          fromAgentId: agentId,
          reason,
        });
      }
    }
    return moved;
  }

  /** Gives a newly online agent the waiting buyers of their shops that no online agent holds. */
  async pickUp(agentId: string): Promise<number> {
    const { agents, assignment, conversations, presence, events } = this.deps;
    const agent = await agents.get(agentId);
    if (!agent) return 0;
    let taken = 0;
    for (const shopId of agent.shopIds) {
      // Every waiting buyer of the shop, longest wait first.
      const { waitingBehind: waiting } = await conversations.activeAndWaiting(shopId, 0);
      for (const { buyerId } of waiting) {
        const id = conversationIdOf(shopId, buyerId);
        const owner = await assignment.ownerOf(id);
        if (owner && (await presence.statusOf(owner)) === 'online') continue;
        if ((await assignment.offer(id, [agentId])) !== agentId) break;
        taken += 1;
        await events.publish(shopId, 'conversation', {
          conversationId: id,
          change: 'assigned',
          agentId,
          fromAgentId: owner,
          reason: 'online',
        });
      }
    }
    return taken;
  }

  /**
   * A presence event to the agents of every shop the agent serves; each
   * colleague sees only the shops they share, never the agent's other shops.
   */
  async announce(agentId: string, status: PresenceStatus): Promise<void> {
    const agent = await this.deps.agents.get(agentId);
    if (!agent) return;
    const shared = new Map<string, string[]>();
    for (const shopId of agent.shopIds)
      for (const colleague of await this.deps.agents.agentsOfShop(shopId))
        shared.set(colleague, [...(shared.get(colleague) ?? []), shopId]);
    const groups = new Map<string, string[]>();
    for (const [colleague, shopIds] of shared) {
      const key = JSON.stringify(shopIds);
      groups.set(key, [...(groups.get(key) ?? []), colleague]);
    }
    for (const [key, recipients] of groups)
      await this.deps.events.publishTo(recipients, 'presence', {
        shopIds: JSON.parse(key) as string[],
        agentId,
        name: agent.name,
        status,
      });
  }
}
