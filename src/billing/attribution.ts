import { DEFAULT_ATTRIBUTION_DAYS } from '../metering/consultation-meter';
import type { Plan } from './plan-schema';

/**
 * Days after a consultation in which the buyer's paid order converts it:
 * the base_commission plan's own window, else the default, so conversion
 * is measured the same way whatever the plan.
 */
export function attributionDaysOf(plan: Plan | undefined): number {
  return plan?.model === 'base_commission' ? plan.attributionDays : DEFAULT_ATTRIBUTION_DAYS;
}
