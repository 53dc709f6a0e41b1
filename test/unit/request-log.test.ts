import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { logRequest } from '../../src/http/request-context';
import { createLogger } from '../../src/shared/logger';

function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger('info', sink) };
}

describe('the request log line', () => {
  it('never carries a buyer id, not even inside a conversation id (a WhatsApp buyer id is a phone number)', () => {
    const { lines, logger } = capture();
    const id = conversationId('shp_abc', '8613800138000');
    logRequest(logger, {
      requestId: 'r1',
      method: 'POST',
      path: `/v1/agent/conversations/${id}/replies`,
      status: 202,
      started: performance.now(),
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(id);
    expect(Buffer.from(lines[0]!).toString()).not.toContain('8613800138000');
    const entry = JSON.parse(lines[0]!) as { path: string };
    expect(entry.path).toBe('/v1/agent/conversations/cnv_[redacted]/replies');
  });

  it('keeps every other path as it is', () => {
    const { lines, logger } = capture();
    logRequest(logger, {
      requestId: 'r2',
      method: 'GET',
      path: '/v1/shops/shp_abc/usage',
      status: 200,
      started: performance.now(),
    });
    expect((JSON.parse(lines[0]!) as { path: string }).path).toBe('/v1/shops/shp_abc/usage');
  });
});
