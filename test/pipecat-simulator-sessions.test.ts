import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { request } from 'undici';
import { startPipecatSimulator, type PipecatSimulator } from '../src/simulators/pipecat';

let sim: PipecatSimulator;
before(async () => {
  sim = await startPipecatSimulator({ seed: 2, timing: { reconcileDelayMs: 0, creatingMs: 0, validatingMs: 0 } });
});
after(() => sim.close());
beforeEach(() => {
  sim.reset();
  sim.setSessionBehaviour({ coldStartMs: 0, warmStartMs: 0, naturalDurationMs: null, capacityErrorShape: 'rate-limit', capacityRetryAfterSec: null });
});

async function call(method: string, url: string, key: string, body?: unknown) {
  const res = await request(url, {
    method: method as 'GET',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}
const createAgent = (name: string, extra: Record<string, unknown> = {}) =>
  call('POST', `${sim.url}/agents`, sim.privateApiKey, { serviceName: name, image: 'acme/bot:1', autoScaling: { minAgents: 0, maxAgents: 2 }, ...extra });
const start = (name: string, body: Record<string, unknown> = {}, key = sim.publicApiKey) => call('POST', `${sim.publicUrl}/${name}/start`, key, body);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Pipecat Cloud simulator: sessions', () => {
  test('start needs the public key; the private key is refused', async () => {
    await createAgent('s-auth');
    await sleep(10);
    assert.equal((await start('s-auth', {}, sim.privateApiKey)).status, 401);
    const ok = await start('s-auth', { createDailyRoom: true });
    assert.equal(ok.status, 200);
    assert.match(ok.body!.sessionId, /^[0-9a-f-]{36}$/);
    assert.ok(ok.body!.dailyRoom && ok.body!.dailyToken);
  });

  test('maxAgents caps live sessions: the next start is 429, in either documented body shape', async () => {
    await createAgent('s-cap');
    await sleep(10);
    await start('s-cap');
    await start('s-cap');
    const full = await start('s-cap');
    assert.equal(full.status, 429);
    assert.deepEqual(full.body, { status: 429, code: '429', message: 'Rate limit exceeded. Please try again later' });
    sim.setSessionBehaviour({ capacityErrorShape: 'at-capacity', capacityRetryAfterSec: 2 });
    const other = await start('s-cap');
    assert.deepEqual(other.body, { error: 'Service maximum agent instances reached', code: 'PCC-AGENT-AT-CAPACITY' });
    assert.equal(other.headers['retry-after'], '2');
    const agent = await call('GET', `${sim.url}/agents/s-cap`, sim.privateApiKey);
    assert.equal(agent.body!.activeSessionCount, 2);
  });

  test('body limits: 1 MB (413), 4 KB for websocket (413); websocket_auth "none" is a 400', async () => {
    await createAgent('s-body');
    await sleep(10);
    assert.equal((await start('s-body', { body: { pad: 'x'.repeat(1024 * 1024) } })).status, 413);
    assert.equal((await start('s-body', { transport: 'websocket', body: { pad: 'x'.repeat(5000) } })).status, 413);
    assert.equal((await start('s-body', { transport: 'websocket', body: { pad: 'x'.repeat(3000) } })).status, 200);
    assert.equal((await start('s-body', { body: { websocket_auth: 'none' } })).status, 400);
  });

  test('websocket transport answers token, wsUrl and the base64 body', async () => {
    await createAgent('s-ws');
    await sleep(10);
    const res = await start('s-ws', { transport: 'websocket', body: { a: 1 } });
    assert.ok(res.body!.token);
    assert.match(res.body!.wsUrl, /^wss:\/\/.*\/ws\/generic\/s-ws\./);
    assert.deepEqual(JSON.parse(Buffer.from(res.body!.body, 'base64').toString('utf8')), { a: 1 });
  });

  test('a cold start (no warm instance) answers later than a warm one', async () => {
    await createAgent('s-cold');
    await sleep(10);
    sim.setSessionBehaviour({ coldStartMs: 400, warmStartMs: 0 });
    let t = Date.now();
    const cold = await start('s-cold');
    const coldMs = Date.now() - t;
    assert.ok(coldMs >= 380, `cold start took ${coldMs} ms`);
    await call('DELETE', `${sim.url}/agents/s-cold/sessions/${cold.body!.sessionId}`, sim.privateApiKey);
    t = Date.now();
    await start('s-cold');
    assert.ok(Date.now() - t < 300, 'the freed instance was still warm');
    const [first] = sim.sessions('s-cold');
    assert.equal(first!.coldStart, true);
  });

  test('the cap ends a session with a completion status; stop is DELETE with a snake_case answer; 404 after', async () => {
    await createAgent('s-cap2', { maxSessionDuration: 60 });
    await sleep(10);
    const a = (await start('s-cap2')).body!.sessionId as string;
    const stop = await call('DELETE', `${sim.url}/agents/s-cap2/sessions/${a}`, sim.privateApiKey);
    assert.deepEqual(stop.body, { status: 'terminated', session_id: a });
    assert.equal((await call('DELETE', `${sim.url}/agents/s-cap2/sessions/${a}`, sim.privateApiKey)).status, 404);
    const got = await call('GET', `${sim.url}/agents/s-cap2/sessions/${a}`, sim.privateApiKey);
    assert.equal(got.body!.completionStatus, 'HTTP_TERMINATED');
    assert.ok(got.body!.endedAt);
    const session = sim.sessions('s-cap2')[0]!;
    assert.equal(session.capAt - session.createdAt, 60_000, 'cap = maxSessionDuration');
  });

  test('sessions that end by themselves; list filters with total_count', async () => {
    await createAgent('s-nat');
    await sleep(10);
    sim.setSessionBehaviour({ naturalDurationMs: { min: 100, max: 100 } });
    await start('s-nat');
    sim.setSessionBehaviour({ naturalDurationMs: null });
    await start('s-nat');
    await sleep(150);
    const active = await call('GET', `${sim.url}/agents/s-nat/sessions?status=active`, sim.privateApiKey);
    const ended = await call('GET', `${sim.url}/agents/s-nat/sessions?status=ended`, sim.privateApiKey);
    assert.equal(active.body!.total_count, 1);
    assert.equal(ended.body!.total_count, 1);
    assert.equal(ended.body!.sessions[0].completionStatus, 'HTTP_COMPLETED');
    assert.equal((await call('GET', `${sim.url}/agents/s-nat/sessions?status=bogus`, sim.privateApiKey)).status, 400);
  });

  test('a deleted agent refuses starts but keeps its live sessions; an agent with no live deployment gives PCC-1001', async () => {
    await createAgent('s-del');
    await sleep(10);
    const live = (await start('s-del')).body!.sessionId as string;
    await call('DELETE', `${sim.url}/agents/s-del`, sim.privateApiKey);
    assert.equal((await start('s-del')).status, 404);
    assert.equal(sim.sessions('s-del').find((s) => s.sessionId === live)!.endedAt, null);
    sim.setTiming({ validatingMs: 60_000 });
    await createAgent('s-slow');
    const notReady = await start('s-slow');
    assert.equal(notReady.status, 400);
    assert.equal(notReady.body!.code, 'PCC-1001');
    sim.setTiming({ validatingMs: 0 });
  });

  test('the session proxy forwards to the bot (recorded, minus authorization) and refuses ended sessions', async () => {
    await createAgent('s-proxy');
    await sleep(10);
    const id = (await start('s-proxy', { body: { vaoSessionKey: 'k-1' } })).body!.sessionId as string;
    const bye = await call('POST', `${sim.publicUrl}/s-proxy/sessions/${id}/goodbye`, sim.publicApiKey, { reason: 'deadline' });
    assert.equal(bye.status, 200);
    const who = await call('GET', `${sim.publicUrl}/s-proxy/sessions/${id}/vao/session`, sim.publicApiKey);
    assert.deepEqual(who.body, { sessionKey: 'k-1' });
    const recorded = sim.proxiedRequests(id);
    assert.equal(recorded[0]!.path, '/goodbye');
    assert.deepEqual(recorded[0]!.body, { reason: 'deadline' });
    assert.equal(recorded[0]!.headers.authorization, undefined);
    sim.hangUp(id);
    assert.equal((await call('POST', `${sim.publicUrl}/s-proxy/sessions/${id}/goodbye`, sim.publicApiKey, {})).status, 404);
  });
});
