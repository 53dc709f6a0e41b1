import { z } from 'zod';
import { assistRequestSchema } from '../assist/assist-request-schema';
import { genericPayload } from '../platforms/generic/generic-payload';
import { agentAdminOperations } from './routes/agent-admin-routes';
import {
  closeSchema,
  colleaguesQuery,
  presenceSchema,
  replySchema,
  statsQuery,
  transferSchema,
} from './routes/agent-routes';
import { billingOperations } from './routes/billing-routes';
import { deskOperations } from './routes/desk-routes';
import { operatorOperations } from './routes/operator-routes';
import { opsOperations } from './routes/ops-routes';
import { quickPhraseOperations } from './routes/quick-phrase-routes';
import { shopOperations } from './routes/shop-routes';
import { widgetOperations } from './routes/widget-routes';

const jsonSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });

/**
 * Who may call an operation, for clients generated from this document: the operator's, an
 * owner's or an agent's token (`bearer`: every /v1 route but the widget's, all behind one
 * middleware), a widget session (`widgetSession`), a platform's signature (`platformSignature`,
 * webhook deliveries), or no credential: the probes, the widget script, a widget session's
 * start (the shop's allowed Origin is what it checks) and the platforms' verification
 * handshakes (their token is in the query). test/integration/openapi.test.ts holds the
 * bearer ones to the router.
 */
function securityOf(method: string, path: string): Array<Record<string, string[]>> {
  if (path.startsWith('/v1/widget/'))
    return path.endsWith('/session') ? [] : [{ widgetSession: [] }];
  if (path.startsWith('/webhooks/')) return method === 'post' ? [{ platformSignature: [] }] : [];
  return path.startsWith('/v1/') ? [{ bearer: [] }] : [];
}

/**
 * The OpenAPI document, generated from the very zod schemas that validate
 * requests, so the contract and the code cannot drift.
 */
export function buildOpenApi() {
  const operations = [
    { method: 'get', path: '/healthz', summary: 'Liveness' },
    { method: 'get', path: '/readyz', summary: 'Readiness: 503 while Redis is unavailable' },
    { method: 'get', path: '/metrics', summary: 'Prometheus metrics' },
    { method: 'get', path: '/openapi.json', summary: 'This document' },
    ...shopOperations,
    ...agentAdminOperations,
    ...operatorOperations,
    ...deskOperations,
    {
      method: 'get',
      path: '/webhooks/{platform}/{shopId}',
      summary: 'Platform verification handshake',
    },
    {
      method: 'post',
      path: '/webhooks/{platform}/{shopId}',
      summary: 'Platform events (generic: Standard Webhooks)',
      body: genericPayload,
    },
    {
      method: 'post',
      path: '/v1/assist/suggest',
      summary: 'Suggested replies for a conversation',
      body: assistRequestSchema,
    },
    {
      method: 'get',
      path: '/v1/agent/me',
      summary: 'The signed-in agent with their presence (online, away, offline)',
    },
    {
      method: 'put',
      path: '/v1/agent/presence',
      summary: 'State presence; away/offline hands waiting buyers to an online colleague',
      body: presenceSchema,
    },
    {
      method: 'get',
      path: '/v1/agent/colleagues',
      summary: 'The other agents of one of my shops with their presence (transfer picker)',
      query: colleaguesQuery,
    },
    {
      method: 'get',
      path: '/v1/agent/conversations/{conversationId}/context',
      summary: "The buyer's orders, rating, earlier conversations and mentioned products",
    },
    {
      method: 'post',
      path: '/v1/agent/conversations/{conversationId}/transfer',
      summary: 'Hand the buyer to a colleague of the shop (holder only: 409; unknown agent: 404)',
      body: transferSchema,
    },
    {
      method: 'get',
      path: '/v1/agent/conversations',
      summary: "Active conversations across the agent's shops, longest-waiting first",
    },
    {
      method: 'get',
      path: '/v1/agent/conversations/{conversationId}',
      summary: 'One conversation with its history and suggestions',
    },
    {
      method: 'post',
      path: '/v1/agent/conversations/{conversationId}/claim',
      summary: 'Claim a conversation (409 if another agent holds it)',
    },
    {
      method: 'post',
      path: '/v1/agent/conversations/{conversationId}/close',
      summary:
        'Close a conversation; with seenBuyerAt, a buyer message newer than it keeps it open (409 buyer_wrote_again)',
      body: closeSchema,
    },
    {
      method: 'post',
      path: '/v1/agent/conversations/{conversationId}/replies',
      summary:
        'Send a reply (202, delivered from the outbound queue). An Idempotency-Key header makes a retry answer with the first reply (Idempotent-Replayed: true); the same key with other words is 422',
      body: replySchema,
    },
    {
      method: 'get',
      path: '/v1/agent/conversations/{conversationId}/replies/{replyId}',
      summary: 'A reply: queued, sent or failed with the platform error',
    },
    {
      method: 'get',
      path: '/v1/agent/conversations/{conversationId}/media/{messageId}',
      summary:
        "A buyer's image, voice, video or file, fetched through the shop's platform token (same-origin; checked type, nosniff, sandbox CSP, private cache 5 min, ETag); 404 media_not_found, 502 media_too_large / media_type_refused / media_unavailable, 504 media_unavailable on timeout, 429 past AGENT_MEDIA_PER_MINUTE",
    },
    {
      method: 'get',
      path: '/v1/agent/events',
      summary:
        'Server-Sent Events (message, suggestion, conversation, alert, reply, presence); resume with Last-Event-ID; 429 too_many_streams, 503 shutting_down',
    },
    {
      method: 'get',
      path: '/v1/agent/stats',
      summary: "The agent's response figures for a day",
      query: statsQuery,
    },
    {
      method: 'get',
      path: '/v1/agents/{agentId}/stats',
      summary: "An agent's response figures (admin)",
      query: statsQuery,
    },
    ...opsOperations,
    ...quickPhraseOperations,
    ...billingOperations,
    ...widgetOperations,
  ];
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const parameters = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    if ('query' in op && op.query) {
      const schema = jsonSchema(op.query) as {
        properties?: Record<string, unknown>;
        required?: string[];
      };
      for (const [name, property] of Object.entries(schema.properties ?? {})) {
        parameters.push({
          name,
          in: 'query',
          required: schema.required?.includes(name) ?? false,
          schema: property as { type: string },
        });
      }
    }
    paths[op.path] ??= {};
    paths[op.path]![op.method] = {
      summary: op.summary,
      security: securityOf(op.method, op.path),
      ...(parameters.length ? { parameters } : {}),
      ...('body' in op && op.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(op.body) } },
            },
          }
        : {}),
      responses: {
        default: { description: 'JSON; errors are {error: {code, message, details?}}' },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Seatmate', version: '1' },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: "ADMIN_TOKEN, an operator's token, an owner key or an agent token",
        },
        widgetSession: {
          type: 'http',
          scheme: 'bearer',
          description: 'The token POST /v1/widget/{widgetKey}/session answers, sent with Origin',
        },
        platformSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'webhook-signature',
          description:
            "Each platform's own: Standard Webhooks (generic), X-Hub-Signature-256 (WhatsApp, Messenger), X-Line-Signature, X-Telegram-Bot-Api-Secret-Token, WeChat's signed query",
        },
      },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
