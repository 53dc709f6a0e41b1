/**
 * The Lua scripts that meter one event each. Every script recomputes the
 * figures the event can touch from the stored facts (sets, the earliest
 * message per buyer-day, the sorted reply and order times), then moves the
 * month aggregate by the difference. So the aggregate is a function of the
 * set of events seen, whatever their order or how often they are replayed,
 * and a month report reads one hash instead of every message.
 *
 * All keys are the shop's (one hash tag, one cluster slot). The caller passes
 * in KEYS every key it can name beforehand (see SHOP_KEYS_LUA); only keys a
 * script finds by a range scan (the month of an order, the day of a
 * consultation) are named in Lua, from the same suffixes, in the same slot.
 *
 * Index members are lexically sortable so one ZRANGEBYLEX finds "the first
 * reply at or after t" or "this buyer's orders in [a, b)":
 *   replies   ix:replies    B ms(15)   (every agent reply of the shop)
 *   consults  ix:consults   B firstMs(15) day(10) windowMs(15)
 *   orders    ix:orders     B paidMs(15) amountFen(15) month(7) orderId
 * where B = `<byte length of buyer>:<buyer>|`. The length prefix makes B
 * prefix-free (two buyers' B never start one another: the lengths differ
 * before a ':', or the buyers differ within that length), so no buyer id, of
 * any bytes, can make its members read as another buyer's. Ingest and these
 * scripts still refuse control characters/NUL in ids (defence in depth).
 *
 * Older data used other keys (`replies`, `consults`, `orders:idx`) with
 * `buyer NUL …` members. Those keys only ever hold that layout, so reading
 * them by `buyer NUL` stays exact; every script reads both until the old key
 * is empty, and moves up to DRAIN_PER_CALL old members into the new key on
 * each call (bounded work, no pause for a big shop). New facts only go to the
 * new keys. See docs/operations.md.
 */

import { SHOP_KEYS_LUA } from '../shared/redis-keys';
import { defineScript } from '../shared/redis-scripts';
import { AGGREGATE_FIELDS_LUA } from './month-aggregate';

/** Widths of the fixed-size fields in index members. */
export const MS_WIDTH = 15;

/** Old-layout members each metering call moves to the new keys, per index (a few ms). */
export const DRAIN_PER_CALL = 100;

const PRELUDE = `${SHOP_KEYS_LUA}
${AGGREGATE_FIELDS_LUA}
local function agg(month) return mkey(month, 'agg') end
local function pad(n) return string.format('%015.0f', n) end
-- The buyer part of an index member: length-prefixed, so prefix-free.
local function bp(buyer) return #buyer .. ':' .. buyer .. '|' end
-- Each index and the older key it replaces (members 'buyer NUL ...'), read until drained.
local INDEXES = { { 'ix:replies', 'replies' }, { 'ix:consults', 'consults' }, { 'ix:orders', 'orders:idx' } }
local LEGACY, LEGACY_KEYS = {}, {}
for _, pair in ipairs(INDEXES) do
  LEGACY[pair[1]] = pair[2]
  LEGACY_KEYS[#LEGACY_KEYS + 1] = key(pair[2])
end
-- Whether any older key still holds members: one EXISTS per event once they are all
-- drained (nothing writes them any more), instead of a ZRANGE per key and per scan;
-- none when the caller already saw them drained (DrainedShops).
local legacy = true
-- One buyer's members of an index with tails (the member after the buyer part) in
-- [lo, hi]: lo and hi start with '[' or '(' like ZRANGEBYLEX bounds. Both layouts; each
-- result is {tail, key, member}; with a limit, the lowest tails.
local function scan(index, buyer, lo, hi, limit)
  local out = {}
  local layouts = { { key(index), bp(buyer) } }
  if legacy then layouts[2] = { key(LEGACY[index]), buyer .. '\0' } end
  for _, layout in ipairs(layouts) do
    local k, p = layout[1], layout[2]
    local from = string.sub(lo, 1, 1) .. p .. string.sub(lo, 2)
    local to = string.sub(hi, 1, 1) .. p .. string.sub(hi, 2)
    local found
    if limit then found = redis.call('ZRANGEBYLEX', k, from, to, 'LIMIT', 0, limit)
    else found = redis.call('ZRANGEBYLEX', k, from, to) end
    for _, m in ipairs(found) do out[#out + 1] = { string.sub(m, #p + 1), k, m } end
  end
  if limit and #out > limit then
    table.sort(out, function(x, y) return x[1] < y[1] end)
    while #out > limit do table.remove(out) end
  end
  return out
end
-- Moves a few old members of each index into the new layout: bounded work per event.
local function drain()
  if not legacy then return end
  if redis.call('EXISTS', unpack(LEGACY_KEYS)) == 0 then
    legacy = false
    return
  end
  for _, pair in ipairs(INDEXES) do
    local old = key(pair[2])
    for _, m in ipairs(redis.call('ZRANGE', old, 0, ${DRAIN_PER_CALL - 1})) do
      -- Every member of an old key has its NUL (the scripts that wrote them refused ids with one).
      local cut = string.find(m, '\0', 1, true)
      redis.call('ZREM', old, m)
      redis.call('ZADD', key(pair[1]), 0, bp(string.sub(m, 1, cut - 1)) .. string.sub(m, cut + 1))
    end
  end
end
local function noNul(id)
  if string.find(id, '\0', 1, true) then error('an id in an index member contains NUL') end
  return id
end
local months = {}
local function touch(month) months[month] = true end
local function touched()
  local out = {}
  for m in pairs(months) do out[#out + 1] = m end
  return out
end

-- A consultation (buyer-day) runs from the buyer's first message that day until
-- the buyer's first message the next day, at most 24 h and never past the end
-- of the next calendar day (limit, so a 23 h DST day cannot stretch a span
-- over two midnights): a reply in that
-- span answers it, even after midnight. It always covers the rest of its own
-- calendar day (dayEnd): on a 25 h DST day a reply 24 h 40 min after a message
-- at 00:10 is still that day's reply. Its first response is the earliest such
-- reply; it is a reception exactly when it has one. Recomputed from the stored
-- facts, so the order events arrive in never matters.
local DAY_MS = 86400000
local function recomputeFrt(day, buyer, nextDay, dayEnd, limit)
  local first = redis.call('HGET', dkey(day, 'first'), buyer)
  local new = false
  if first then
    first = tonumber(first)
    local upper = first + DAY_MS
    if upper < dayEnd then upper = dayEnd end
    if limit < upper then upper = limit end
    local nextFirst = redis.call('HGET', dkey(nextDay, 'first'), buyer)
    if nextFirst and tonumber(nextFirst) < upper then upper = tonumber(nextFirst) end
    local r = scan('ix:replies', buyer, '[' .. pad(first), '(' .. pad(upper), 1)
    if r[1] then new = tonumber(r[1][1]) - first end
  end
  local oldRaw = redis.call('HGET', dkey(day, 'frt'), buyer)
  local old = false
  if oldRaw then old = tonumber(oldRaw) end
  if old == new then return end
  local a = agg(string.sub(day, 1, 7))
  if old then
    redis.call('HINCRBY', a, day .. F.answered, -1)
    redis.call('HINCRBY', a, day .. F.receptions, -1)
    redis.call('HINCRBY', a, day .. F.responseMs, -old)
    if old <= 180000 then redis.call('HINCRBY', a, day .. F.within3Min, -1) end
  end
  if new then
    redis.call('HSET', dkey(day, 'frt'), buyer, string.format('%.0f', new))
    redis.call('HINCRBY', a, day .. F.answered, 1)
    redis.call('HINCRBY', a, day .. F.receptions, 1)
    redis.call('HINCRBY', a, day .. F.responseMs, new)
    if new <= 180000 then redis.call('HINCRBY', a, day .. F.within3Min, 1) end
  else
    redis.call('HDEL', dkey(day, 'frt'), buyer)
  end
  touch(string.sub(day, 1, 7))
end

local function setConverted(day, buyer, converted)
  local a = agg(string.sub(day, 1, 7))
  if converted then
    if redis.call('SADD', dkey(day, 'converted'), buyer) == 1 then redis.call('HINCRBY', a, day .. F.converted, 1) end
  else
    if redis.call('SREM', dkey(day, 'converted'), buyer) == 1 then redis.call('HINCRBY', a, day .. F.converted, -1) end
  end
  touch(string.sub(day, 1, 7))
end

-- A consultation converts when the same buyer paid an order in [first, first + window).
local function recomputeConversion(day, buyer, first, window)
  local hit = scan('ix:orders', buyer, '[' .. pad(first), '(' .. pad(first + window), 1)
  setConverted(day, buyer, hit[1] ~= nil)
end

-- An order's sale is attributed when some consultation of the buyer has it inside its window.
-- \`order\` is the tail of the order's index member: paidMs amountFen month orderId.
local function recomputeAttribution(buyer, order, maxWindow)
  local paidAt = tonumber(string.sub(order, 1, 15))
  local amount = tonumber(string.sub(order, 16, 30))
  local month = string.sub(order, 31, 37)
  local orderId = string.sub(order, 38)
  local candidates = scan('ix:consults', buyer, '[' .. pad(paidAt - maxWindow), '[' .. pad(paidAt) .. '\\255')
  local attributed = false
  for _, c in ipairs(candidates) do
    local first = tonumber(string.sub(c[1], 1, 15))
    local window = tonumber(string.sub(c[1], 26))
    if first <= paidAt and paidAt < first + window then attributed = true break end
  end
  local h = mkey(month, 'attributed')
  if attributed then
    if redis.call('HSETNX', h, orderId, amount) == 1 then redis.call('HINCRBY', agg(month), M.attributedFen, amount) end
  else
    if redis.call('HDEL', h, orderId) == 1 then redis.call('HINCRBY', agg(month), M.attributedFen, -amount) end
  end
  touch(month)
end
`;

/**
 * A buyer message. KEYS: the day's buyers and first messages first, then every other key the
 * caller can name. ARGV: prefix, buyer, day, atMs, windowMs, maxWindowMs, previous day, next day,
 * start of the next day (ms), start of the day after it (ms), 'drained' when the caller knows
 * the older keys are empty (else anything), start of the day (ms).
 * Returns {newConsultation (0/1), older keys left (0/1), months touched...}.
 */
export const BUYER_MESSAGE_SCRIPT = `
-- Most buyer messages are not the buyer's first of the day, and change nothing: answered here,
-- before the prelude builds its tables and functions (most of such a call's time). KEYS[1] and
-- KEYS[2] are the day's buyers and first messages; the older keys must be known drained.
if ARGV[11] == 'drained' and redis.call('SISMEMBER', KEYS[1], ARGV[2]) == 1 then
  local first = redis.call('HGET', KEYS[2], ARGV[2])
  if first and tonumber(first) <= tonumber(ARGV[4]) then return {0, 0, string.sub(ARGV[3], 1, 7)} end
end
${PRELUDE}
local buyer, day, at, window, maxWindow, prevDay, nextDay = noNul(ARGV[2]), ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7], ARGV[8]
local nextDayStart, dayAfterStart, dayStart = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[12])
if ARGV[11] == 'drained' then legacy = false end
drain()
local month = string.sub(day, 1, 7)
touch(month)
local added = redis.call('SADD', dkey(day, 'buyers'), buyer)
if added == 1 then
  redis.call('HINCRBY', agg(month), day .. F.consultations, 1)
end
local function answer()
  local out = touched()
  table.insert(out, 1, legacy and 1 or 0)
  table.insert(out, 1, added)
  return out
end
local oldRaw = redis.call('HGET', dkey(day, 'first'), buyer)
local old = false
if oldRaw then old = tonumber(oldRaw) end
if old and old <= at then return answer() end
redis.call('HSET', dkey(day, 'first'), buyer, ARGV[4])
if old then
  for _, c in ipairs(scan('ix:consults', buyer, '[' .. pad(old) .. day, '[' .. pad(old) .. day .. '\\255')) do
    redis.call('ZREM', c[2], c[3])
  end
end
redis.call('ZADD', key('ix:consults'), 0, bp(buyer) .. pad(at) .. day .. pad(window))
recomputeFrt(day, buyer, nextDay, nextDayStart, dayAfterStart)
-- This day's first message also ends the previous day's consultation.
recomputeFrt(prevDay, buyer, day, dayStart, nextDayStart)
recomputeConversion(day, buyer, at, window)
-- Orders whose attribution can change: those after the new first message, up to the widest window after the old one.
local upper = at
if old then upper = old end
for _, o in ipairs(scan('ix:orders', buyer, '[' .. pad(at), '(' .. pad(upper + maxWindow))) do
  recomputeAttribution(buyer, o[1], maxWindow)
end
return answer()
`;

/**
 * An agent reply. ARGV: prefix, buyer, day, atMs, agent, previous day, next day,
 * start of the next day (ms), start of the day after it (ms), start of the day (ms).
 * Returns the months touched.
 */
export const AGENT_REPLY_SCRIPT = `${PRELUDE}
local buyer, day, at, agent, prevDay, nextDay = noNul(ARGV[2]), ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6], ARGV[7]
local nextDayStart, dayAfterStart, dayStart = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
drain()
local month = string.sub(day, 1, 7)
touch(month)
-- The seat-day is the day the agent worked, whichever consultation the reply answers.
if redis.call('SADD', dkey(day, 'agents'), agent) == 1 then redis.call('HINCRBY', agg(month), day .. F.seatDays, 1) end
redis.call('ZADD', key('ix:replies'), 0, bp(buyer) .. pad(at))
recomputeFrt(day, buyer, nextDay, nextDayStart, dayAfterStart)
recomputeFrt(prevDay, buyer, day, dayStart, nextDayStart)
return touched()
`;

/** A paid order. ARGV: prefix, buyer, orderId, paidAtMs, amountFen, month, maxWindowMs. Returns the months touched. */
export const ORDER_SCRIPT = `${PRELUDE}
local buyer, orderId, paidAt, amount, month, maxWindow = noNul(ARGV[2]), noNul(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])
drain()
local tail = pad(paidAt) .. pad(amount) .. month .. orderId
redis.call('ZADD', key('ix:orders'), 0, bp(buyer) .. tail)
recomputeAttribution(buyer, tail, maxWindow)
for _, c in ipairs(scan('ix:consults', buyer, '[' .. pad(paidAt - maxWindow), '[' .. pad(paidAt) .. '\\255')) do
  local first = tonumber(string.sub(c[1], 1, 15))
  local day = string.sub(c[1], 16, 25)
  local window = tonumber(string.sub(c[1], 26))
  if first <= paidAt and paidAt < first + window then setConverted(day, buyer, true) end
end
return touched()
`;

/** A rating, counted once per event id. ARGV: prefix, month, eventId, json, score. */
export const RATING_SCRIPT = `${SHOP_KEYS_LUA}
${AGGREGATE_FIELDS_LUA}
local month, id, json, score = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
if redis.call('HSETNX', mkey(month, 'ratings'), id, json) == 1 then
  redis.call('HINCRBY', mkey(month, 'agg'), M.ratings, 1)
  redis.call('HINCRBY', mkey(month, 'agg'), M.ratingSum, score)
end
return {month}
`;

/**
 * Shops (by key prefix) whose older index keys this process saw empty, for
 * ten minutes. Nothing writes those keys any more, so a buyer message of such
 * a shop (the most frequent metered event) skips the check: one Redis command
 * less per message, one check per shop every ten minutes. The memory is
 * short so that keys brought back behind a running process (a restored
 * backup, a replica promoted with older data) are drained again soon; replies
 * and orders, far fewer, check every time.
 */
export class DrainedShops {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly rememberMs = 10 * 60_000,
    /** Monotonic ms: an expiry of a cache, not a business time. */
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The buyer-message script's last argument for this shop. */
  flag(shopPrefix: string): string {
    const until = this.until.get(shopPrefix);
    return until !== undefined && this.now() < until ? 'drained' : 'check';
  }

  /** What a buyer-message script said about the shop's older keys (0: all empty). */
  learn(shopPrefix: string, olderKeysLeft: number): void {
    if (olderKeysLeft !== 0) {
      this.until.delete(shopPrefix);
      return;
    }
    // Remembered until the time set by the check that found them empty, then checked again.
    if (this.flag(shopPrefix) === 'drained') return;
    // Bounded: forgetting only costs the check again.
    if (this.until.size >= 100_000) this.until.clear();
    this.until.set(shopPrefix, this.now() + this.rememberMs);
  }
}

export const meterScripts = {
  buyerMessage: defineScript<[number, number, ...string[]]>(
    'meterBuyerMessage',
    BUYER_MESSAGE_SCRIPT,
  ),
  agentReply: defineScript<string[]>('meterAgentReply', AGENT_REPLY_SCRIPT),
  order: defineScript<string[]>('meterOrder', ORDER_SCRIPT, { inTransactions: true }),
  rating: defineScript<string[]>('meterRating', RATING_SCRIPT),
};
