import { describe, expect, it } from 'vitest';
import { invoiceToCsv } from '../../../src/billing/invoice-csv';
import { priceMonth } from '../../../src/billing/price-month';
import { monthOf, plan } from './month-fixture';

describe('invoice CSV', () => {
  it('writes a header, one row per line and a total row, with CRLF line ends', () => {
    // 3% of 12345 = 370.35 → 370; total 300000 + 370 = 300370.
    const priced = priceMonth(
      plan({ model: 'base_commission', monthlyBaseFen: 300000, commissionPercent: 3 }),
      monthOf('2026-11', { attributedSalesFen: 12345 }),
    );
    expect(invoiceToCsv(priced)).toBe(
      [
        'kind,description,quantity,unitFen,amountFen',
        'base,Monthly base 3000.00 CNY,1,300000,300000',
        'commission,Commission 3% of 123.45 CNY of orders paid within 7 days of a consultation,1,12345,370',
        'total,Total (CNY),,,300370',
        '',
      ].join('\r\n'),
    );
  });

  it('quotes commas, quotes and line breaks as RFC 4180 says', () => {
    const csv = invoiceToCsv({
      currency: 'CNY',
      lines: [
        {
          kind: 'adjustment',
          description: 'Late, "re-counted"\nreceptions',
          quantity: 1,
          unitFen: 5,
          amountFen: 5,
        },
      ],
      totalFen: 5,
    });
    expect(csv.split('\r\n')[1]).toBe('adjustment,"Late, ""re-counted""\nreceptions",1,5,5');
  });

  it('neutralises text cells that a spreadsheet would run as a formula, but keeps negative amounts numeric', () => {
    const lines = ['=HYPERLINK("http://x")', '+1+1', '-2+3', '@SUM(A1)', '\tcmd'].map(
      (description) => ({
        kind: 'adjustment' as const,
        description,
        quantity: 1,
        unitFen: -1000,
        amountFen: -1000,
      }),
    );
    const rows = invoiceToCsv({ currency: 'CNY', lines, totalFen: -5000 }).split('\r\n');
    expect(rows.slice(1, 6)).toEqual([
      `adjustment,"'=HYPERLINK(""http://x"")",1,-1000,-1000`,
      `adjustment,'+1+1,1,-1000,-1000`,
      `adjustment,'-2+3,1,-1000,-1000`,
      `adjustment,'@SUM(A1),1,-1000,-1000`,
      `adjustment,'\tcmd,1,-1000,-1000`,
    ]);
    expect(rows[6]).toBe('total,Total (CNY),,,-5000');
  });

  it('can start with a UTF-8 byte-order mark for Excel', () => {
    const csv = invoiceToCsv({ currency: 'CNY', lines: [], totalFen: 0 }, { bom: true });
    expect(csv.startsWith('\uFEFFkind,')).toBe(true);
  });
});
