import type { AgentRegistry } from '../agents/agent-registry';
import type { Assignment } from '../agents/assignment';
import { type AgentDayFigures, type ResponseClock, WITHIN_SECONDS } from '../agents/response-clock';
import { type ConversationStore, conversationId } from '../conversations/conversation-store';
import type { ConsultationMeter } from '../metering/consultation-meter';
import type { Clock } from '../shared/clock';
import { dayOf } from '../shared/shop-calendar';
import type { Shop, ShopRegistry } from '../shops/shop-registry';

export type Presence = 'online' | 'away' | 'offline';

export interface DeskShop {
  id: string;
  name: string;
  platform: string;
  timezone: string;
  /** the shop's own calendar day the figures are for */
  date: string;
  activeConversations: number;
  waiting: number;
  longestWaitSeconds: number;
  /** waiting longer than the shop's slowReplySeconds */
  overdue: number;
  agents: Array<{ id: string; name: string; presence: Presence | null; open: number }>;
  agentsOnline: number | null;
  today: {
    consultations: number;
    answered: number;
    averageFirstResponseSeconds: number | null;
    within3MinRate: number | null;
  };
}

export interface DeskAgent {
  id: string;
  name: string;
  presence: Presence | null;
  shopIds: string[];
  openConversations: number;
  /** waiting buyers among the agent's open conversations */
  waiting: number;
  today: AgentDayFigures;
}

export interface Desk {
  at: string;
  shops: DeskShop[];
  agents: DeskAgent[];
}

const round = (value: number, places: number) => Math.round(value * 10 ** places) / 10 ** places;

/**
 * The operator's live desk: per shop the buyers waiting and who serves them,
 * per agent their load and today's figures. Read on demand from the same
 * stores the console uses; nothing here is kept.
 */
export class DeskBoard {
  constructor(
    private readonly deps: {
      shops: ShopRegistry;
      agents: AgentRegistry;
      conversations: ConversationStore;
      assignment: Assignment;
      meter: ConsultationMeter;
      responseClock: ResponseClock;
      clock: Clock;
      /** the agent's presence, where presence is tracked; null otherwise */
      presenceOf?: (agentId: string) => Promise<Presence | null>;
    },
  ) {}

  /** Presence and open conversations of each agent. */
  async agentsLive(
    ids: string[],
  ): Promise<Map<string, { presence: Presence | null; open: number }>> {
    const out = new Map<string, { presence: Presence | null; open: number }>();
    await Promise.all(
      ids.map(async (id) => {
        const [presence, open] = await Promise.all([
          this.deps.presenceOf?.(id) ?? null,
          this.deps.assignment.openCount(id),
        ]);
        out.set(id, { presence, open });
      }),
    );
    return out;
  }

  async read(): Promise<Desk> {
    const { shops, agents, clock } = this.deps;
    const now = clock.now();
    const shopList = (await Promise.all((await shops.listIds()).map((id) => shops.get(id)))).filter(
      (s): s is Shop => s !== null,
    );
    const agentList = await agents.list(shopList.map((s) => s.id));
    const live = await this.agentsLive(agentList.map((a) => a.id));
    const waitingByAgent = new Map<string, number>();
    const deskShops: DeskShop[] = [];
    for (const shop of shopList) {
      const row = await this.shopRow(shop, now, waitingByAgent);
      const members = agentList.filter((a) => a.shopIds.includes(shop.id));
      row.agents = members.map((a) => ({
        id: a.id,
        name: a.name,
        presence: live.get(a.id)?.presence ?? null,
        open: live.get(a.id)?.open ?? 0,
      }));
      row.agentsOnline = this.deps.presenceOf
        ? row.agents.filter((a) => a.presence === 'online').length
        : null;
      deskShops.push(row);
    }
    const timezones = new Map(shopList.map((s) => [s.id, s.timezone]));
    const deskAgents = await Promise.all(
      agentList.map(async (agent): Promise<DeskAgent> => {
        // An agent's day is their first shop's day, as on the console.
        const zone = timezones.get(agent.shopIds[0] ?? '') ?? 'Asia/Shanghai';
        return {
          id: agent.id,
          name: agent.name,
          presence: live.get(agent.id)?.presence ?? null,
          shopIds: agent.shopIds,
          openConversations: live.get(agent.id)?.open ?? 0,
          waiting: waitingByAgent.get(agent.id) ?? 0,
          today: await this.deps.responseClock.figures(
            agent.id,
            agent.shopIds.map((id) => ({ id, timezone: timezones.get(id) ?? zone })),
            { now },
          ),
        };
      }),
    );
    return { at: new Date(now).toISOString(), shops: deskShops, agents: deskAgents };
  }

  private async shopRow(
    shop: Shop,
    now: number,
    waitingByAgent: Map<string, number>,
  ): Promise<DeskShop> {
    const date = dayOf(now, shop.timezone);
    // Every active conversation, not the console's latest 200: a busy shop's longest wait is
    // behind them.
    const { active, waitingBehind } = await this.deps.conversations.activeAndWaiting(shop.id, 0);
    let waiting = 0;
    let overdue = 0;
    let longest = 0;
    for (const { buyerId, waitingSince } of waitingBehind) {
      const seconds = Math.max(0, Math.round((now - waitingSince) / 1000));
      waiting += 1;
      if (seconds > shop.settings.slowReplySeconds) overdue += 1;
      longest = Math.max(longest, seconds);
      const holder = await this.deps.assignment.ownerOf(conversationId(shop.id, buyerId));
      if (holder) waitingByAgent.set(holder, (waitingByAgent.get(holder) ?? 0) + 1);
    }
    const consultations = await this.deps.meter.consultationsOn(shop.id, date);
    const answered = consultations.filter((c) => c.firstResponseMs !== null);
    const sumMs = answered.reduce((sum, c) => sum + (c.firstResponseMs ?? 0), 0);
    const within = answered.filter((c) => (c.firstResponseMs ?? 0) <= WITHIN_SECONDS * 1000);
    return {
      id: shop.id,
      name: shop.name,
      platform: shop.platform,
      timezone: shop.timezone,
      date,
      activeConversations: active,
      waiting,
      longestWaitSeconds: longest,
      overdue,
      agents: [],
      agentsOnline: null,
      today: {
        consultations: consultations.length,
        answered: answered.length,
        averageFirstResponseSeconds: answered.length
          ? round(sumMs / answered.length / 1000, 1)
          : null,
        // Of all consultations, like the month's 3-minute rate: an unanswered one is not within.
        within3MinRate: consultations.length
          ? round(within.length / consultations.length, 4)
          : null,
      },
    };
  }
}
