import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import http from 'node:http';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { z } from 'zod';
import type { Logger } from '../logging';
import { closeServer, listen, readBody, sendJson } from '../simulators/http';
import { callEndingSignal, sessionEndedSignal } from '../workflows/messages';

/**
 * Receives VideoSDK session webhooks and turns them into signals on the session's workflow.
 * The signature (`videosdk-signature`: base64 RSA-SHA256 of the raw body) is checked before anything is
 * parsed. The workflow id travels in the webhook URL we registered at start (`?wf=`); it is not signed,
 * so the workflow only accepts an `ended` signal whose sessionId matches its own session.
 */
export interface WebhookReceiverOptions {
  client: Client;
  /** PEM of VideoSDK's webhook key, or a function fetching it (GET /v2/public/rsa-public-key). */
  publicKey: string | (() => Promise<string>);
  host?: string;
  port?: number;
  maxBodyBytes?: number;
  logger: Logger;
}

export interface WebhookReceiver {
  url: string;
  /** The endPoint to register for a session's webhooks. */
  endpointFor(workflowId: string): string;
  close(): Promise<void>;
}

// "stopping" ends the conversation: the platform is tearing the session down and its worker no longer
// counts against capacity, so a campaign's slot frees there, not one teardown later.
const ENDING_EVENTS = new Set([
  'ai-deployment-session-stopping',
  'agent-session-stopping',
  'ai-deployment-session-stopped',
  'ai-deployment-session-failed',
  'agent-session-stopped',
  'agent-session-failed',
]);
const KNOWN_EVENTS = new Set([
  ...ENDING_EVENTS,
  'ai-deployment-session-starting',
  'ai-deployment-session-started',
  'agent-session-starting',
  'agent-session-started',
]);

const PayloadSchema = z.object({
  webhookType: z.string(),
  data: z.object({ sessionId: z.string().min(1) }).loose(),
});

/** Sessions whose end this receiver has already signalled; bounded, oldest forgotten first. */
const REMEMBERED_ENDINGS = 10_000;

export async function startWebhookReceiver(options: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const maxBody = options.maxBodyBytes ?? 64 * 1024;
  // One session end arrives as several webhooks ("stopping", then "stopped"). Only the first is turned into
  // signals: each later one would add an event and a workflow task to the session and to its campaign,
  // and change nothing. Best effort, per process: a restarted receiver signals again, which is harmless.
  const signalledEndings = new Set<string>();
  const rememberEnding = (key: string) => {
    signalledEndings.add(key);
    if (signalledEndings.size > REMEMBERED_ENDINGS) signalledEndings.delete(signalledEndings.values().next().value!);
  };
  let key: KeyObject | undefined;
  const publicKey = async (): Promise<KeyObject> => {
    key ??= createPublicKey(typeof options.publicKey === 'string' ? options.publicKey : await options.publicKey());
    return key;
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://receiver');
    if (req.method === 'GET' && url.pathname === '/health') return sendJson(res, 200, { status: 'ok' });
    if (url.pathname !== '/webhooks/videosdk') return sendJson(res, 404, { error: 'not found' });
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'use POST' });

    const raw = await readBody(req, maxBody);
    if (raw === 'too-large') return sendJson(res, 413, { error: `body larger than ${maxBody} bytes` });
    const signature = req.headers['videosdk-signature'];
    if (typeof signature !== 'string' || !verify('sha256', raw, await publicKey(), Buffer.from(signature, 'base64'))) {
      options.logger.warn('VideoSDK webhook rejected: bad or missing signature', { bytes: raw.length });
      return sendJson(res, 401, { error: 'invalid videosdk-signature' });
    }
    let payload: z.infer<typeof PayloadSchema>;
    try {
      const parsed = PayloadSchema.safeParse(JSON.parse(raw.toString('utf8')));
      if (!parsed.success) return sendJson(res, 400, { error: `unexpected payload: ${parsed.error.issues[0]?.path.join('.')}` });
      payload = parsed.data;
    } catch {
      return sendJson(res, 400, { error: 'body is not JSON' });
    }
    // The documented examples prefix ids with "session-"; the REST API does not.
    const sessionId = payload.data.sessionId.replace(/^session-/, '');
    const workflowId = url.searchParams.get('wf');
    if (!KNOWN_EVENTS.has(payload.webhookType)) {
      options.logger.info('VideoSDK webhook of an unknown type acknowledged', { type: payload.webhookType, sessionId });
      return sendJson(res, 200, { status: 'ignored' });
    }
    if (!ENDING_EVENTS.has(payload.webhookType)) return sendJson(res, 200, { status: 'ok' });
    if (!workflowId) {
      options.logger.warn('VideoSDK webhook for a session we did not start acknowledged', { sessionId, type: payload.webhookType });
      return sendJson(res, 200, { status: 'ignored', reason: 'unknown session' });
    }
    const endingKey = `${workflowId}\n${sessionId}`;
    if (signalledEndings.has(endingKey)) return sendJson(res, 200, { status: 'ok', note: 'end already signalled' });
    // A campaign call: tell the campaign too, so its slot refills now rather than after the call's own
    // workflow has stopped and reported. The hint only frees the slot; the call's report settles the outcome.
    const campaignId = url.searchParams.get('campaign');
    const callKey = url.searchParams.get('call');
    const hint =
      campaignId && callKey
        ? options.client.workflow
            .getHandle(campaignId)
            .signal(callEndingSignal, { sessionKey: callKey, sessionId })
            .catch((err: unknown) => options.logger.info('Campaign slot hint not delivered', { campaignId, error: (err as Error).message }))
        : Promise.resolve();
    try {
      await Promise.all([
        options.client.workflow.getHandle(workflowId).signal(sessionEndedSignal, { source: 'videosdk-webhook', reason: payload.webhookType, sessionId }),
        hint,
      ]);
      rememberEnding(endingKey);
      return sendJson(res, 200, { status: 'ok' });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        // Acknowledge: a retry would never succeed, and the provider would keep retrying.
        options.logger.warn('VideoSDK webhook for a workflow that is gone acknowledged', { sessionId, workflowId });
        return sendJson(res, 200, { status: 'ignored', reason: 'unknown session' });
      }
      throw err;
    }
  }

  // Requests being handled, so close() returns only after their signals went out (or failed).
  const inFlight = new Set<Promise<void>>();
  const server = http.createServer((req, res) => {
    const done = handle(req, res)
      .catch((err: unknown) => {
        options.logger.error('webhook handling failed', { error: (err as Error).message });
        sendJson(res, 503, { error: 'temporarily unavailable' });
      })
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
  });
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, options.port ?? 0, host);
  const url = `http://${host}:${port}`;
  return {
    url,
    endpointFor: (workflowId) => `${url}/webhooks/videosdk?wf=${encodeURIComponent(workflowId)}`,
    close: async () => {
      await Promise.all([closeServer(server), ...inFlight]);
    },
  };
}
