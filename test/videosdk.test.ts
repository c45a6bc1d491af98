import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { request } from 'undici';
import { startSession } from '../src/client/session';
import { sessionWorkflowId } from '../src/domain/session';
import { createLogger } from '../src/logging';
import { ProviderError } from '../src/providers/http';
import { VideoSdkClient } from '../src/providers/videosdk/client';
import { startVideoSdkSimulator, type VideoSdkSimulator } from '../src/simulators/videosdk';
import type { PipecatSimulator } from '../src/simulators/pipecat';
import { startWebhookReceiver, type WebhookReceiver } from '../src/webhooks/receiver';
import type { agentSession } from '../src/workflows/agent-session';
import { depsFor, startSim, testSealer } from './helpers/pipecat';
import { createTestEnv, uniqueTaskQueue, withWorker } from './helpers/temporal';

let env: TestWorkflowEnvironment;
let vsdk: VideoSdkSimulator;
let pipecat: PipecatSimulator;
let receiver: WebhookReceiver;
let n = 0;
const key = (label: string) => `${label}-${process.pid}-${++n}`;
const silent = createLogger('error', { stream: { write: () => true } as unknown as NodeJS.WritableStream });

before(async () => {
  env = await createTestEnv();
  vsdk = await startVideoSdkSimulator({ seed: 3, queuedMs: 100, stoppingMs: 50 });
  pipecat = await startSim();
  receiver = await startWebhookReceiver({ client: env.client, publicKey: vsdk.publicKeyPem, logger: silent });
});
after(async () => {
  // The simulator first: it stops sending webhooks, then the receiver finishes what it is handling.
  await vsdk?.close();
  await receiver?.close();
  await pipecat?.close();
  await env?.teardown();
});

const client = (overrides: Partial<{ apiKey: string; secret: string }> = {}) =>
  new VideoSdkClient({ apiUrl: vsdk.url, apiKey: overrides.apiKey ?? vsdk.apiKey, secret: overrides.secret ?? vsdk.secret, timeoutMs: 2000 });

const post = async (path: string, body: string, headers: Record<string, string> = {}) => {
  const res = await request(`${receiver.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
};

describe('VideoSDK API auth (simulator)', () => {
  test('a fresh per-request JWT is accepted', async () => {
    const s = await client().startSession({ deploymentId: 'dep-1' });
    assert.equal(s.status, 'queued');
    assert.equal((await client().getSession(s.sessionId))?.sessionId, s.sessionId);
    await client().endSession(s.sessionId);
  });

  test('an expired token gets 401 "Token is invalid or expired"', async () => {
    const expired = await client().mintToken(Math.floor(Date.now() / 1000) - 3600);
    const res = await request(`${vsdk.url}/ai/v1/ai-deployment-sessions?page=1&perPage=1`, { headers: { authorization: expired } });
    assert.equal(res.statusCode, 401);
    assert.deepEqual(await res.body.json(), { message: 'Token is invalid or expired' });
  });

  test('a token signed with the wrong secret, or sent with a Bearer prefix, is rejected as permanent', async () => {
    const err = await client({ secret: 'not-the-secret-0123456789abcdef' })
      .listSessions()
      .then(
        () => assert.fail('accepted'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof ProviderError);
    assert.equal(err.kind, 'permanent');
    assert.match(err.message, /Token is invalid or expired/);
    const good = await client().mintToken();
    const res = await request(`${vsdk.url}/ai/v1/ai-deployment-sessions`, { headers: { authorization: `Bearer ${good}` } });
    assert.equal(res.statusCode, 401);
    await res.body.dump();
  });
});

describe('VideoSDK webhook receiver', () => {
  const payload = JSON.stringify({ webhookType: 'ai-deployment-session-stopped', data: { sessionId: 'abc' } });

  test('a bad or missing signature is refused with 401 and a JSON body', async () => {
    assert.equal((await post('/webhooks/videosdk?wf=x', payload)).status, 401);
    const forged = await post('/webhooks/videosdk?wf=x', payload, { 'videosdk-signature': vsdk.signBody(`${payload} `) });
    assert.equal(forged.status, 401);
    assert.match(String(forged.body.error), /signature/);
  });

  test('an oversized body gets 413', async () => {
    const big = JSON.stringify({ webhookType: 'x', data: { sessionId: 'a', pad: 'x'.repeat(70 * 1024) } });
    assert.equal((await post('/webhooks/videosdk', big, { 'videosdk-signature': vsdk.signBody(big) })).status, 413);
  });

  test('malformed JSON with a valid signature gets 400', async () => {
    const bad = '{"webhookType": ';
    const res = await post('/webhooks/videosdk', bad, { 'videosdk-signature': vsdk.signBody(bad) });
    assert.equal(res.status, 400);
  });

  test('an event for an unknown session or a finished workflow is acknowledged, not retried', async () => {
    const signed = { 'videosdk-signature': vsdk.signBody(payload) };
    assert.deepEqual((await post('/webhooks/videosdk', payload, signed)).body, { status: 'ignored', reason: 'unknown session' });
    assert.deepEqual((await post('/webhooks/videosdk?wf=agent-session:videosdk:never-existed', payload, signed)).body, {
      status: 'ignored',
      reason: 'unknown session',
    });
  });

  test('one session end sent as several webhooks signals the session and its campaign once', async () => {
    // Workflows nobody runs (no worker polls this queue): the signals land in their histories all the same.
    const taskQueue = uniqueTaskQueue('vsdk-no-worker');
    const sessionWf = sessionWorkflowId('videosdk', key('dup-end'));
    const campaignWf = `campaign:${key('dup-end-campaign')}`;
    await env.client.workflow.start('agentSession', { taskQueue, workflowId: sessionWf, args: [{}] });
    await env.client.workflow.start('campaign', { taskQueue, workflowId: campaignWf, args: [{}] });
    const url = `/webhooks/videosdk?wf=${encodeURIComponent(sessionWf)}&campaign=${encodeURIComponent(campaignWf)}&call=k1`;
    for (const type of ['ai-deployment-session-stopping', 'ai-deployment-session-stopped', 'ai-deployment-session-stopped']) {
      const body = JSON.stringify({ webhookType: type, data: { sessionId: 'dup-session' } });
      assert.equal((await post(url, body, { 'videosdk-signature': vsdk.signBody(body) })).status, 200);
    }
    const signals = async (workflowId: string) =>
      ((await env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes).map((e) => e.workflowExecutionSignaledEventAttributes!.signalName);
    assert.deepEqual(await signals(sessionWf), ['ended']);
    assert.deepEqual(await signals(campaignWf), ['callEnding']);
    // Another session's end on the same workflow is not swallowed.
    const other = JSON.stringify({ webhookType: 'ai-deployment-session-stopped', data: { sessionId: 'other-session' } });
    assert.equal((await post(url, other, { 'videosdk-signature': vsdk.signBody(other) })).status, 200);
    assert.deepEqual(await signals(sessionWf), ['ended', 'ended']);
    await Promise.all([sessionWf, campaignWf].map((id) => env.client.workflow.getHandle(id).terminate('test done')));
  });
});

describe('agentSession on VideoSDK (real Temporal server + simulator + receiver)', () => {
  const deps = () => ({ ...depsFor(pipecat), videosdk: client(), videosdkWebhookUrl: `${receiver.url}/webhooks/videosdk` });

  test('starts, and the signed stopped webhook ends the workflow without waiting for a poll', async () => {
    const sessionKey = key('vsdk');
    const taskQueue = uniqueTaskQueue('vsdk');
    const result = await withWorker(env, deps(), taskQueue, async () => {
      const info = await startSession(
        env.client,
        { provider: 'videosdk', deploymentId: 'dep-1', tag: 'v1', sessionKey, metaData: { customer: 'c-9' }, statusPollSec: 600 },
        { taskQueue, sealer: testSealer },
      );
      const session = vsdk.sessions().find((s) => s.sessionId === info.sessionId)!;
      assert.equal(session.metaData.vaoSessionKey, sessionKey);
      assert.equal(session.metaData.customer, 'c-9');
      assert.match(session.webhook!.endPoint, /\/webhooks\/videosdk\?wf=agent-session%3Avideosdk%3A/);
      await new Promise((r) => setTimeout(r, 200));
      const endRequestsBefore = vsdk.stats().endRequests;
      assert.ok(vsdk.hangUp(info.sessionId));
      const started = Date.now();
      const res = await env.client.workflow.getHandle<typeof agentSession>(sessionWorkflowId('videosdk', sessionKey)).result();
      assert.ok(Date.now() - started < 10_000, 'ended by the webhook, not by the 600 s poll');
      // The platform's signed word that the session ended needs no confirming stop.
      assert.equal(vsdk.stats().endRequests, endRequestsBefore);
      return res;
    });
    assert.equal(result.endReason, 'ended');
    assert.ok(vsdk.webhookDeliveries().some((d) => d.sessionId === result.sessionId && d.type === 'ai-deployment-session-stopping' && d.status === 200));
  });

  test('429 "No workers available" is waited out', async () => {
    const sessionKey = key('vsdk-cap');
    const taskQueue = uniqueTaskQueue('vsdk');
    vsdk.setCapacity(0);
    setTimeout(() => vsdk.setCapacity(50), 1200);
    await withWorker(env, deps(), taskQueue, async () => {
      const info = await startSession(env.client, { provider: 'videosdk', deploymentId: 'dep-1', sessionKey, startTimeoutSec: 30 }, { taskQueue, sealer: testSealer });
      assert.ok(info.sessionId);
      const handle = env.client.workflow.getHandle<typeof agentSession>(sessionWorkflowId('videosdk', sessionKey));
      await handle.signal('stopNow');
      const result = await handle.result();
      assert.ok(result.attempts >= 2);
      assert.equal(result.endReason, 'stopped');
    });
    assert.ok(vsdk.stats().rejectedAtCapacity >= 1);
  });
});
