import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startCampaign } from '../src/client/campaign';
import { startDeploy } from '../src/client/deploy';
import { callSessionKey, campaignWorkflowId, governorWorkflowId } from '../src/domain/campaign';
import { startSession } from '../src/client/session';
import { sessionWorkflowId } from '../src/domain/session';
import { AesGcmPayloadCodec } from '../src/security/codec';
import { dataConverterFor } from '../src/security/data-converter';
import type { PipecatSimulator } from '../src/simulators/pipecat';
import { sessionStopNowSignal } from '../src/workflows/messages';
import { depsFor, pipecatClientFor, startSim, testSealer } from './helpers/pipecat';
import { createTestEnv, uniqueTaskQueue, withWorker } from './helpers/temporal';

const key = (fill: number) => Buffer.alloc(32, fill).toString('base64');
const KEYS = `k2:${key(2)},k1:${key(1)}`;

let env: TestWorkflowEnvironment;
let sim: PipecatSimulator;
before(async () => {
  env = await createTestEnv();
  sim = await startSim({ timing: { reconcileDelayMs: 0, creatingMs: 0, validatingMs: 0 } });
});
after(async () => {
  await sim?.close();
  await env?.teardown();
});

describe('payload encryption', () => {
  test('keys rotate: encrypted with the newest, readable with any configured key, refused with a clear error otherwise', async () => {
    const payload = defaultPayloadConverter.toPayload({ phone: '+15550001111' });
    const [old] = await new AesGcmPayloadCodec([{ id: 'k1', key: Buffer.alloc(32, 1) }]).encode([payload]);
    assert.equal(Buffer.from(old!.data!).includes(Buffer.from('+15550001111')), false);
    const ring = dataConverterFor(KEYS)!.payloadCodecs![0]!;
    const [back] = await ring.decode([old!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(back!), { phone: '+15550001111' });
    const [fresh] = await ring.encode([payload]);
    assert.equal(Buffer.from(fresh!.metadata!['encryption-key-id']!).toString(), 'k2');
    await assert.rejects(new AesGcmPayloadCodec([{ id: 'k3', key: Buffer.alloc(32, 3) }]).decode([fresh!]), /unknown key "k2"/);
  });

  test('with encryption on, histories hold no session body, phone number, token or API key in plain text', async () => {
    const dataConverter = dataConverterFor(KEYS);
    const client = new Client({ connection: env.client.connection, dataConverter });
    const agentName = `enc-${process.pid}`;
    const sessionKey = `enc-${process.pid}`;
    const phone = '+15557654321';
    const taskQueue = uniqueTaskQueue('enc');
    let dailyToken = '';
    await withWorker(
      env,
      depsFor(sim),
      taskQueue,
      async () => {
        const deploy = await startDeploy(client, { agentName, image: 'acme/bot:1.0', pollIntervalSec: 0.2, autoScaling: { maxAgents: 2 } }, { taskQueue });
        assert.equal((await deploy.result()).status, 'ready');
        const info = await startSession(client, { agentName, sessionKey, createDailyRoom: true, body: { phone, name: 'Ada Lovelace' } }, { taskQueue, sealer: testSealer });
        dailyToken = info.dailyToken!;
        await client.workflow.getHandle(info.workflowId).signal(sessionStopNowSignal);
        assert.equal((await client.workflow.getHandle(info.workflowId).result()).endReason, 'stopped');
      },
      { dataConverter },
    );
    assert.ok(pipecatClientFor(sim) && sim.sessions(agentName)[0]!.body, 'the bot still got its body');
    for (const workflowId of [`deploy-agent:${agentName}`, sessionWorkflowId('pipecat', sessionKey)]) {
      const raw = JSON.stringify(await env.client.workflow.getHandle(workflowId).fetchHistory());
      const decoded = raw.replace(/"data":"([A-Za-z0-9+/=]+)"/g, (_m, b64: string) => Buffer.from(b64, 'base64').toString('latin1'));
      for (const secret of [phone, 'Ada Lovelace', dailyToken, sim.privateApiKey, sim.publicApiKey]) {
        assert.equal(decoded.includes(secret), false, `${secret.slice(0, 6)}… is readable in ${workflowId}`);
      }
      assert.ok(raw.includes(Buffer.from('binary/encrypted').toString('base64')), 'payloads are marked encrypted');
    }
  });

  test('with encryption on, a campaign’s history and its calls’ histories hold no phone number or contact data', async () => {
    const dataConverter = dataConverterFor(KEYS);
    const client = new Client({ connection: env.client.connection, dataConverter });
    const callSim = await startSim({ timing: { reconcileDelayMs: 0, creatingMs: 0, validatingMs: 0 }, sessions: { naturalDurationMs: { min: 200, max: 300 } } });
    const agentName = `enc-camp-${process.pid}`;
    const campaignId = `enc-${process.pid}`;
    const people = [
      { contactId: 'p1', phone: '+15551230001', data: { name: 'Grace Hopper', account: 'ACCT-991' } },
      { contactId: 'p2', phone: '+15551230002', data: { name: 'Alan Turing', account: 'ACCT-992' } },
    ];
    try {
      await pipecatClientFor(callSim).createAgent({ serviceName: agentName, image: 'acme/bot:1.0', autoScaling: { minAgents: 0, maxAgents: 4 } });
      const taskQueue = uniqueTaskQueue('enc-camp');
      const result = await withWorker(
        env,
        depsFor(callSim),
        taskQueue,
        async () => (await startCampaign(client, { campaignId, agentName, contacts: people, concurrency: 2, session: { statusPollSec: 0.2 } }, { taskQueue })).result(),
        { dataConverter },
      );
      assert.equal(result.progress.completed, 2);
      assert.equal(callSim.sessions(agentName).length, 2);
      const ids = [campaignWorkflowId(campaignId), governorWorkflowId('pipecat', agentName), ...people.map((p) => sessionWorkflowId('pipecat', callSessionKey(campaignId, p.contactId, 1)))];
      for (const workflowId of ids) {
        const raw = JSON.stringify(await env.client.workflow.getHandle(workflowId).fetchHistory());
        const decoded = raw.replace(/"data":"([A-Za-z0-9+/=]+)"/g, (_m, b64: string) => Buffer.from(b64, 'base64').toString('latin1'));
        for (const secret of people.flatMap((p) => [p.phone, p.data.name, p.data.account])) {
          assert.equal(decoded.includes(secret), false, `${secret.slice(0, 6)}… is readable in ${workflowId}`);
        }
      }
      // The check can fail: the bot did receive the contact's data.
      assert.ok(JSON.stringify(callSim.sessions(agentName).map((s) => s.body)).includes('Grace Hopper'));
    } finally {
      await callSim.close();
    }
  });

  test('with encryption off, API keys still never reach history', async () => {
    const agentName = `plain-${process.pid}`;
    const taskQueue = uniqueTaskQueue('plain');
    await withWorker(env, depsFor(sim), taskQueue, async () => {
      const deploy = await startDeploy(env.client, { agentName, image: 'acme/bot:1.0', pollIntervalSec: 0.2 }, { taskQueue });
      assert.equal((await deploy.result()).status, 'ready');
    });
    const raw = JSON.stringify(await env.client.workflow.getHandle(`deploy-agent:${agentName}`).fetchHistory());
    const decoded = raw.replace(/"data":"([A-Za-z0-9+/=]+)"/g, (_m, b64: string) => Buffer.from(b64, 'base64').toString('latin1'));
    assert.ok(decoded.includes(agentName), 'plain payloads are readable (the check can fail)');
    assert.equal(decoded.includes(sim.privateApiKey), false);
    assert.equal(decoded.includes(sim.publicApiKey), false);
  });
});
