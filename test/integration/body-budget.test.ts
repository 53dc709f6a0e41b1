import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BodyBudget, readBody } from '../../src/http/raw-body';
import type { AppError } from '../../src/shared/errors';

// Bodies being read at once share one budget per process: many slow large bodies cannot be
// buffered together past it. A server of its own, with a budget of 1,000 bytes.
const budget = new BodyBudget(1000);
let server: Server;
let port: number;
beforeAll(async () => {
  server = createServer((req, res) => {
    readBody(req, 10_000, 5000, budget).then(
      (body) => res.end(`read ${body.length}`),
      (error: AppError) => {
        res.writeHead(error.status, error.headers);
        res.end(error.code);
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

/** A POST whose body is written as the test says; resolves with the answer. */
function post(headers: Record<string, string | number>) {
  const req = request({ port, method: 'POST', path: '/', headers, agent: false });
  const answer = new Promise<{ status: number; text: string; retryAfter?: string }>(
    (resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            text,
            retryAfter: res.headers['retry-after'] as string | undefined,
          }),
        );
      });
      req.on('error', reject);
    },
  );
  return { req, answer };
}

describe('the process-wide budget of body bytes being read', () => {
  it('refuses a declared body that does not fit beside one being read, and takes it afterwards', async () => {
    const slow = post({ 'content-length': 800 });
    slow.req.write('x'.repeat(100));
    await new Promise((r) => setTimeout(r, 100));
    expect(budget.inUse).toBe(800);

    const refused = post({ 'content-length': 800 });
    refused.req.end('y'.repeat(800));
    expect(await refused.answer).toMatchObject({
      status: 503,
      text: 'unavailable',
      retryAfter: '1',
    });

    slow.req.end('x'.repeat(700));
    expect(await slow.answer).toMatchObject({ status: 200, text: 'read 800' });
    expect(budget.inUse).toBe(0);
    const later = post({ 'content-length': 800 });
    later.req.end('z'.repeat(800));
    expect(await later.answer).toMatchObject({ status: 200, text: 'read 800' });
  });

  it('counts a chunked body as it arrives and refuses it once it would pass the budget', async () => {
    const chunked = post({ 'transfer-encoding': 'chunked' });
    for (let i = 0; i < 12; i++) chunked.req.write('c'.repeat(100));
    chunked.req.end();
    expect(await chunked.answer).toMatchObject({ status: 503, text: 'unavailable' });
    expect(budget.inUse).toBe(0);
  });
});
