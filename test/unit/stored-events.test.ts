import { describe, expect, it } from 'vitest';
import { dataLine, shopsOf, toEvent } from '../../src/agents/agent-events';

// An event as XRANGE/XREAD return it: its id and its fields as name, value pairs.
const stored = (type: string, data: string) => toEvent(['1-0', ['type', type, 'data', data]]);

describe('events read from an agent stream', () => {
  it('are written to the stream as stored and routed by the shop they name first', () => {
    const json = JSON.stringify({
      shopId: 'shp_a1',
      conversationId: 'cnv_1',
      text: '您好 "引号" \\ ',
    });
    const event = stored('suggestion', json);
    expect(dataLine(event)).toBe(json);
    expect(shopsOf(event)).toEqual(['shp_a1']);
    expect(event.data).toEqual(JSON.parse(json));
  });

  it('are routed without reading the rest of the event', () => {
    // Only the shop is needed to route it: the rest is the client's to read.
    expect(shopsOf(stored('message', '{"shopId":"shp_a1","message":{'))).toEqual(['shp_a1']);
  });

  it('are read in full when their shops are not first or not plain', () => {
    expect(shopsOf(stored('presence', '{"agentId":"agt_1","shopIds":["shp_a","shp_b"]}'))).toEqual([
      'shp_a',
      'shp_b',
    ]);
    expect(shopsOf(stored('message', '{"shopId":"shp_\\"odd","x":1}'))).toEqual(['shp_"odd']);
    expect(shopsOf(stored('message', '{"shopId":null,"shopIds":["shp_c"]}'))).toEqual(['shp_c']);
  });

  it('are written on one line even when stored across several', () => {
    const event = stored('message', '{\n  "shopId": "shp_a1",\n  "text": "hi"\n}');
    expect(dataLine(event)).toBe('{"shopId":"shp_a1","text":"hi"}');
    expect(shopsOf(event)).toEqual(['shp_a1']);
  });

  it('without a stored form (made here) are written from their data', () => {
    expect(dataLine({ id: '2-0', type: 'reset', data: { reason: 'gap' } })).toBe(
      '{"reason":"gap"}',
    );
  });
});
