import { describe, expect, it } from 'vitest';
import { planSchema } from '../../../src/billing/plan-schema';

describe('plan schema', () => {
  it.each([
    {
      model: 'tiered',
      tiers: [
        { upToAverageDaily: 50, monthlyFen: 150000 },
        { upToAverageDaily: null, monthlyFen: 400000 },
      ],
    },
    {
      model: 'per_day',
      dayRateFen: { online: 25000, inbound: 28000, outbound: 30000 },
      channel: 'online',
    },
    {
      model: 'monthly',
      monthlyFen: 800000,
      holdbackPercent: 15,
      targets: { maxAverageFirstResponseSeconds: 60 },
    },
    { model: 'per_reception', dailyBaseFen: 5000, perReceptionFen: 300 },
    { model: 'dedicated_seat', seats: 2, monthlyFenPerSeat: 600000 },
    {
      model: 'base_commission',
      monthlyBaseFen: 300000,
      commissionPercent: 3,
      attributionDays: 7,
      overtime: { hourlyBaseFen: 3000, ratePercent: 150 },
      performance: { minSatisfaction: 4.5, bonusPercent: 5 },
    },
  ])('accepts the API contract example of $model', (example) => {
    expect(planSchema.safeParse(example).success).toBe(true);
  });

  it.each([
    [
      'tiers out of order',
      {
        model: 'tiered',
        tiers: [
          { upToAverageDaily: 100, monthlyFen: 1 },
          { upToAverageDaily: 50, monthlyFen: 2 },
          { upToAverageDaily: null, monthlyFen: 3 },
        ],
      },
    ],
    [
      'no open-ended last tier',
      { model: 'tiered', tiers: [{ upToAverageDaily: 50, monthlyFen: 1 }] },
    ],
    [
      'no rate for the plan channel',
      { model: 'per_day', dayRateFen: { inbound: 28000 }, channel: 'online' },
    ],
    ['fractional fen', { model: 'dedicated_seat', seats: 1, monthlyFenPerSeat: 600000.5 }],
    [
      'overtime above 500%',
      {
        model: 'dedicated_seat',
        seats: 1,
        monthlyFenPerSeat: 1,
        overtime: { hourlyBaseFen: 1, ratePercent: 501 },
      },
    ],
  ])('rejects a plan with %s', (_why, example) => {
    expect(planSchema.safeParse(example).success).toBe(false);
  });
});
