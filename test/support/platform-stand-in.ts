import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedReply {
  headers: Record<string, string>;
  rawBody: Buffer;
  body: {
    type: string;
    data: { replyId: string; conversationId: string; buyerId: string; text: string };
  };
}

/**
 * A generic-platform "reply URL" on 127.0.0.1: records every reply Seatmate
 * delivers and answers 200, so a browser test runs the whole path for real.
 */
export async function startPlatformStandIn(): Promise<{
  replyUrl: string;
  received: ReceivedReply[];
  /** Answers replies to this buyer with an error code, as a bridge refusing them would. */
  refuse(buyerId: string, status: number, message: string): void;
  close(): Promise<void>;
}> {
  const received: ReceivedReply[] = [];
  const refusals = new Map<string, { status: number; message: string }>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [
          k,
          Array.isArray(v) ? v.join(', ') : (v ?? ''),
        ]),
      );
      const reply: ReceivedReply = { headers, rawBody, body: JSON.parse(rawBody.toString('utf8')) };
      received.push(reply);
      const refusal = refusals.get(reply.body.data.buyerId);
      if (refusal)
        res
          .writeHead(refusal.status, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { code: refusal.message } }));
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    replyUrl: `http://127.0.0.1:${port}/replies`,
    received,
    refuse: (buyerId, status, message) => refusals.set(buyerId, { status, message }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
