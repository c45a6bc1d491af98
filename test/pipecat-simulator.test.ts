import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { request } from 'undici';
import { startPipecatSimulator, type PipecatSimulator } from '../src/simulators/pipecat';

/** Raw HTTP against the simulator: these tests pin the documented wire format, not our client. */
let sim: PipecatSimulator;
const T = { reconcileDelayMs: 100, creatingMs: 100, validatingMs: 100, drainingMs: 150, jitterMs: 0, crashLoopRestartMs: 100 };

before(async () => {
  sim = await startPipecatSimulator({ seed: 1, timing: T, secretSets: ['s1'], imagePullSecretSets: ['pull1'] });
});
after(() => sim.close());
beforeEach(() => sim.reset());

async function api(method: string, path: string, body?: unknown, key: string | null = sim.privateApiKey) {
  const res = await request(`${sim.url}${path}`, {
    method: method as 'GET',
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const create = (name: string, extra: Record<string, unknown> = {}) => api('POST', '/agents', { serviceName: name, image: 'acme/bot:1', ...extra });

describe('Pipecat Cloud simulator: agents API', () => {
  test('401 with the documented body without a key, or with the public key', async () => {
    for (const key of [null, sim.publicApiKey, 'nope']) {
      const res = await api('GET', '/agents', undefined, key);
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, { error: 'Unauthorized / token expired', code: '401' });
    }
  });

  test('create answers ServiceDetailsResponse with the response casing and deprecated mirrors', async () => {
    const res = await create('bot-a', { autoScaling: { minAgents: 1, maxAgents: 4 }, secretSet: 's1', maxSessionDuration: 900, enableKrisp: true });
    assert.equal(res.status, 200);
    const b = res.body!;
    assert.equal(b.name, 'bot-a');
    assert.equal(b.ready, false);
    assert.equal(b.available, false);
    assert.deepEqual(b.autoScaling, { minReplicas: 1, maxReplicas: 4 });
    assert.equal(b.activeDeploymentId, b.desiredDeploymentId);
    assert.equal(b.activeDeploymentReady, b.ready);
    assert.equal(b.reconciledDeploymentId, null);
    assert.equal(b.deployment.manifest.kind, 'PCService');
    assert.deepEqual(b.deployment.manifest.spec.envFromSecretNames, ['s1']);
    assert.equal(b.deployment.manifest.spec.maxSessionDurationSeconds, 900);
    assert.deepEqual(b.errors, []);
  });

  test('a deployment goes reconcile → Creating → Validating → Active, and ready follows', async () => {
    const { body } = await create('bot-b', { autoScaling: { minAgents: 1, maxAgents: 2 } });
    const id = body!.desiredDeploymentId;
    await sleep(130);
    let b = (await api('GET', '/agents/bot-b')).body!;
    assert.equal(b.reconciledDeploymentId, id);
    assert.equal(b.currentRevision.deploymentID, id, 'revision id uses capital ID');
    assert.equal(b.currentRevision.phase, 'Creating');
    await sleep(100);
    b = (await api('GET', '/agents/bot-b')).body!;
    assert.equal(b.currentRevision.phase, 'Validating');
    assert.equal(b.ready, false);
    await sleep(110);
    b = (await api('GET', '/agents/bot-b')).body!;
    assert.equal(b.currentRevision.phase, 'Active');
    assert.equal(b.currentRevision.readyReplicas, 1);
    assert.equal(b.ready, true);
    assert.equal(b.available, true);
    const [timeline] = sim.deploymentTimelines('bot-b');
    assert.ok(timeline!.activeAt! <= Date.now());
  });

  test('update: desired moves at once, reconciled lags, ready is stale-true then false then true, available stays true', async () => {
    const first = (await create('bot-c')).body!.desiredDeploymentId;
    await sleep(350);
    const upd = await api('POST', '/agents/bot-c', { image: 'acme/bot:2' });
    assert.equal(upd.status, 200);
    const second = upd.body!.desiredDeploymentId;
    assert.notEqual(second, first);
    assert.equal(upd.body!.reconciledDeploymentId, first, 'operator has not picked it up yet');
    assert.equal(upd.body!.ready, true, 'ready still describes the old deployment: the trap');
    await sleep(150);
    let b = (await api('GET', '/agents/bot-c')).body!;
    assert.equal(b.reconciledDeploymentId, second);
    assert.equal(b.ready, false);
    assert.equal(b.available, true, 'the old revision keeps serving');
    assert.equal(b.previousRevision.phase, 'Active');
    await sleep(220);
    b = (await api('GET', '/agents/bot-c')).body!;
    assert.equal(b.ready, true);
    assert.equal(b.previousRevision.phase, 'Draining');
  });

  test('a no-op update returns a warning and no new deployment; forceRedeploy makes one; scaling-only updates in place', async () => {
    const first = (await create('bot-d')).body!.desiredDeploymentId;
    const noop = await api('POST', '/agents/bot-d', { image: 'acme/bot:1' });
    assert.equal(noop.body!.desiredDeploymentId, first);
    assert.match(noop.body!.warning, /No changes/);
    const scaling = await api('POST', '/agents/bot-d', { autoScaling: { maxAgents: 7 } });
    assert.equal(scaling.body!.desiredDeploymentId, first);
    assert.equal(scaling.body!.warning, undefined);
    assert.equal(scaling.body!.autoScaling.maxReplicas, 7);
    const forced = await api('POST', '/agents/bot-d', { forceRedeploy: true });
    assert.notEqual(forced.body!.desiredDeploymentId, first);
    assert.equal(sim.deploymentTimelines('bot-d').length, 2);
  });

  test('documented 400/404 answers', async () => {
    await create('bot-e');
    assert.deepEqual((await create('bot-e')).body, { error: 'Service already exists', code: 'GENERIC_BAD_REQUEST' });
    assert.deepEqual((await create('bot-f', { secretSet: 'missing' })).body, { error: 'Secret set not found', code: 'NOT_FOUND' });
    const noImage = await api('POST', '/agents', { serviceName: 'bot-g' });
    assert.equal(noImage.status, 400);
    assert.match(noImage.body!.error, /Either image or buildId is required/);
    const badName = await api('POST', '/agents', { serviceName: 'Bad_Name', image: 'a:1' });
    assert.equal(badName.status, 400);
    assert.match(badName.body!.error, /serviceName/);
    const badDuration = await api('POST', '/agents/bot-e', { maxSessionDuration: 30 });
    assert.equal(badDuration.status, 400);
    assert.match(badDuration.body!.error, /Invalid parameters: .*maxSessionDuration/);
    assert.equal((await api('POST', '/agents', '{not json')).status, 400);
    assert.deepEqual((await api('GET', '/agents/nope')).body, { error: 'Not found', code: 'NOT_FOUND' });
    assert.deepEqual((await api('POST', '/agents/nope', { image: 'a:1' })).body, { error: 'Service not found', code: 'NOT_FOUND' });
    assert.equal((await api('GET', '/nowhere')).status, 404);
  });

  test('image not found: errors[] with PCC_IMAGE_NOT_FOUND, Failed revision, Degraded condition', async () => {
    await create('bot-h', { image: 'acme/does-not-exist:1' });
    await sleep(260);
    const b = (await api('GET', '/agents/bot-h')).body!;
    assert.equal(b.errors[0].code, 'PCC_IMAGE_NOT_FOUND');
    assert.match(b.errors[0].message, /acme\/does-not-exist:1/);
    assert.equal(b.currentRevision.phase, 'Failed');
    assert.equal(b.ready, false);
    assert.equal(b.available, false);
    const degraded = b.conditions.find((c: any) => c.type === 'Degraded');
    assert.equal(degraded.status, 'True');
  });

  test('crash loop: never ready, health.reason CrashLoopBackOff with a growing restartCount, no errors[]', async () => {
    sim.setImageBehaviour('acme/flaky:*', 'crash-loop');
    await create('bot-i', { image: 'acme/flaky:7' });
    await sleep(260);
    const a = (await api('GET', '/agents/bot-i')).body!;
    await sleep(220);
    const b = (await api('GET', '/agents/bot-i')).body!;
    assert.equal(b.ready, false);
    assert.deepEqual(b.errors, []);
    assert.equal(b.currentRevision.phase, 'Validating');
    assert.equal(b.currentRevision.health.reason, 'CrashLoopBackOff');
    assert.ok(b.currentRevision.health.restartCount > a.currentRevision.health.restartCount);
  });

  test('list has no ready/available; includeActiveDeployment adds the deployment; delete then 404', async () => {
    await create('bot-j');
    const list = (await api('GET', '/agents')).body!;
    assert.equal(list.services.length, 1);
    assert.equal(list.services[0].ready, undefined);
    assert.equal(list.services[0].deployment, undefined);
    const withDeployment = (await api('GET', '/agents?includeActiveDeployment=true')).body!;
    assert.ok(withDeployment.services[0].deployment.id);
    assert.deepEqual((await api('DELETE', '/agents/bot-j')).body, { status: 'OK' });
    assert.equal((await api('GET', '/agents/bot-j')).status, 404);
    assert.equal((await api('DELETE', '/agents/bot-j')).status, 404);
    assert.equal((await create('bot-j')).status, 200, 'the name can be used again');
  });

  test('faults: 5xx and resets change nothing; a dropped response was applied', async () => {
    sim.setFaults({ errorRate: 1 });
    const failed = await create('bot-k');
    assert.ok(failed.status >= 500);
    sim.setFaults({ errorRate: 0, resetRate: 1 });
    await assert.rejects(create('bot-k'));
    sim.setFaults({ resetRate: 0 });
    assert.equal((await api('GET', '/agents/bot-k')).status, 404, 'neither fault created the agent');
    sim.setFaults({ dropResponseRate: 1, routes: ['POST /agents'] });
    await assert.rejects(create('bot-k'));
    sim.setFaults({ dropResponseRate: 0, routes: undefined });
    assert.equal((await api('GET', '/agents/bot-k')).status, 200, 'the dropped create was applied');
    assert.equal(sim.requestCounts()['POST /agents'], 3);
  });

  test('admin endpoint sets faults and rejects bad input with a 400 naming the field', async () => {
    const ok = await request(`${sim.adminUrl}/faults`, { method: 'POST', body: JSON.stringify({ errorRate: 0.5 }), headers: { 'content-type': 'application/json' } });
    assert.equal(ok.statusCode, 200);
    assert.equal(((await ok.body.json()) as { errorRate: number }).errorRate, 0.5);
    const bad = await request(`${sim.adminUrl}/faults`, { method: 'POST', body: JSON.stringify({ errorRate: 2 }), headers: { 'content-type': 'application/json' } });
    assert.equal(bad.statusCode, 400);
    assert.match(((await bad.body.json()) as { error: string }).error, /errorRate/);
  });
});
