import { formatYuan } from '../fen';
import { invoiceLine } from '../invoice-line';
import type { MonthMeasures } from '../month-measures';
import type { OvertimeAddOn } from '../plan-schema';
import type { InvoiceLine } from '../priced-month';

/** Overtime: recorded hours × the hourly base × ratePercent / 100, one line rounded once. */
export function overtimeLine(addOn: OvertimeAddOn, m: MonthMeasures): InvoiceLine {
  // Hours are kept to the hundredth; snapping drops float noise from summing (0.1 + 0.2).
  const hours = Math.round(m.overtimeHours * 100) / 100;
  return invoiceLine(
    'overtime',
    `Overtime: ${hours} h × ${formatYuan(addOn.hourlyBaseFen)} CNY base hourly rate × ${addOn.ratePercent}%`,
    hours,
    addOn.hourlyBaseFen,
    addOn.ratePercent,
  );
}
