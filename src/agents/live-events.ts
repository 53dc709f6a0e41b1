/**
 * The one map of live events agents receive on `GET /v1/agent/events`: each
 * event name to the fields of its `data`. Every publisher goes through
 * `AgentEvents.publish`, typed by this map, so a renamed or missing field
 * fails the type check; `LIVE_EVENT_FIELDS` mirrors it at run time and is
 * written to `src/web/console/live-events.json` for the console's tests.
 */

export type PresenceStatus = 'online' | 'away' | 'offline';

/** Fields every conversation event carries (the shop is added by the publisher). */
interface ConversationRef {
  shopId: string;
  conversationId: string;
}

export interface LiveEventMap {
  /** A buyer wrote, or an agent answered in the platform's own client. */
  message: ConversationRef & {
    buyerId: string;
    buyerName?: string | null;
    /** ms since epoch; null when the buyer is not waiting (answered, or a stale message). */
    waitingSince?: number | null;
    /** The message arrived more than STALE_MESSAGE_HOURS after it was sent: stored, never a live wait. */
    stale?: boolean;
    message: {
      id: string;
      from: 'buyer' | 'agent';
      text: string;
      at: number;
      agentName?: string | null;
      /** In a group or topic: which member wrote. */
      author?: { id: string; name?: string };
      /** Typed media (image, voice, file, location...) passed through as the platform gave it. */
      media?: unknown;
    };
  };
  /** Suggestions for the latest buyer message are ready. */
  suggestion: ConversationRef & {
    forMessageId: string;
    at: number;
    stage: string;
    sentiment: string;
    signals: string[];
    locale: string;
    engine: string;
    suggestions: Array<{ id: string; text: string; tactic: string }>;
  };
  /** Who holds the conversation changed, a reply reached the buyer, or it closed. */
  conversation: ConversationRef & {
    change: 'assigned' | 'unassigned' | 'transferred' | 'answered' | 'closed' | 'opened';
    /** The agent now holding it (assigned, transferred), or who answered or closed it. */
    agentId?: string | null;
    /** The previous holder, when the conversation changed hands. */
    fromAgentId?: string | null;
    fromAgentName?: string | null;
    /** The transferring agent's note to the receiver. */
    note?: string | null;
    /** Why: `idle` (closed), `away`/`offline` (handed over), `slow_reply` (taken over), `claimed`. */
    reason?: string;
    /** `platform` when answered from the platform's own client. */
    via?: string;
    /** `opened`: what the buyer clicked (a menu item, a postback), and when (ms). */
    label?: string;
    at?: number;
  };
  /** The buyer waited past the shop's slowReplySeconds (once per wait). */
  alert: ConversationRef & {
    buyerId: string;
    waitingSeconds: number;
    thresholdSeconds: number;
  };
  /** A reply's delivery moved on. */
  reply: ConversationRef & {
    replyId: string;
    status: 'queued' | 'sent' | 'failed';
    agentId?: string;
    error?: string;
  };
  /** A colleague's (or your own) presence changed; sent to the agents of every shop they serve. */
  presence: {
    shopIds: string[];
    agentId: string;
    name: string;
    status: PresenceStatus;
  };
}

export type LiveEventType = keyof LiveEventMap;

/** What a publisher hands over: the event without the shop, which the publisher adds. */
export type LiveEventData<K extends LiveEventType> = Omit<LiveEventMap[K], 'shopId'>;

type FieldSpec<T> = { [F in keyof Required<T>]: undefined extends T[F] ? 'optional' : 'required' };

/**
 * Run-time mirror of the map: every field of every event, required or
 * optional. The mapped type makes a field added, dropped or renamed in the map
 * a type error here until this list follows.
 */
export const LIVE_EVENT_FIELDS: { [K in LiveEventType]: FieldSpec<LiveEventMap[K]> } = {
  message: {
    shopId: 'required',
    conversationId: 'required',
    buyerId: 'required',
    buyerName: 'optional',
    waitingSince: 'optional',
    stale: 'optional',
    message: 'required',
  },
  suggestion: {
    shopId: 'required',
    conversationId: 'required',
    forMessageId: 'required',
    at: 'required',
    stage: 'required',
    sentiment: 'required',
    signals: 'required',
    locale: 'required',
    engine: 'required',
    suggestions: 'required',
  },
  conversation: {
    shopId: 'required',
    conversationId: 'required',
    change: 'required',
    agentId: 'optional',
    fromAgentId: 'optional',
    fromAgentName: 'optional',
    note: 'optional',
    reason: 'optional',
    via: 'optional',
    label: 'optional',
    at: 'optional',
  },
  alert: {
    shopId: 'required',
    conversationId: 'required',
    buyerId: 'required',
    waitingSeconds: 'required',
    thresholdSeconds: 'required',
  },
  reply: {
    shopId: 'required',
    conversationId: 'required',
    replyId: 'required',
    status: 'required',
    agentId: 'optional',
    error: 'optional',
  },
  presence: {
    shopIds: 'required',
    agentId: 'required',
    name: 'required',
    status: 'required',
  },
};

export const LIVE_EVENT_TYPES = Object.keys(LIVE_EVENT_FIELDS) as LiveEventType[];

/** The shops an event belongs to, for filtering a stream by the agent's current shops. */
export function shopsOfEvent(data: Record<string, unknown>): string[] {
  if (typeof data.shopId === 'string') return [data.shopId];
  if (Array.isArray(data.shopIds)) return data.shopIds.filter((s) => typeof s === 'string');
  return [];
}
