import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startCampaign } from '../src/client/campaign';
import type { PipecatSimulator } from '../src/simulators/pipecat';
import { campaignCancelSignal, campaignPauseSignal, campaignProgressQuery, campaignResumeSignal } from '../src/workflows/messages';
import { depsFor, maxConcurrent, pipecatClientFor, startSim } from './helpers/pipecat';
import { createTestEnv, uniqueTaskQueue, withWorker } from './helpers/temporal';

let env: TestWorkflowEnvironment;
let sim: PipecatSimulator;
let n = 0;
before(async () => {
  env = await createTestEnv();
  sim = await startSim({ timing: { reconcileDelayMs: 0, creatingMs: 0, validatingMs: 0 }, sessions: { naturalDurationMs: { min: 250, max: 400 } } });
});
after(async () => {
  await sim?.close();
  await env?.teardown();
});

async function agent(): Promise<string> {
  const name = `camp-${process.pid}-${++n}`;
  await pipecatClientFor(sim).createAgent({ serviceName: name, image: 'acme/bot:1.0', autoScaling: { minAgents: 0, maxAgents: 50 } });
  await new Promise((r) => setTimeout(r, 20));
  return name;
}

const contacts = (count: number) => Array.from({ length: count }, (_, i) => ({ contactId: `c${i}`, phone: `+1555000${1000 + i}`, data: { name: `Contact ${i}` } }));

describe('campaign workflow (real Temporal server + simulator)', () => {
  test('dials every contact exactly once, never more than `concurrency` at a time, refilling as calls end', async () => {
    const agentName = await agent();
    const taskQueue = uniqueTaskQueue('campaign');
    const result = await withWorker(env, depsFor(sim), taskQueue, async () => {
      const handle = await startCampaign(
        env.client,
        { campaignId: `cap-${process.pid}`, agentName, contacts: contacts(8), concurrency: 3, session: { statusPollSec: 0.2, goodbyeLeadSec: 5, graceSec: 1 } },
        { taskQueue },
      );
      return handle.result();
    });
    assert.equal(result.progress.completed, 8);
    assert.deepEqual(result.outcomes.map((o) => o.attempts), Array(8).fill(1));
    const sessions = sim.sessions(agentName);
    assert.equal(sessions.length, 8, 'one session per contact');
    assert.ok(maxConcurrent(sessions) <= 3, `at most 3 live at once, saw ${maxConcurrent(sessions)}`);
    assert.equal(maxConcurrent(sessions), 3, 'the window was kept full');
    const phones = sessions.map((s) => (s.body as { phone: string }).phone).sort();
    assert.deepEqual(phones, contacts(8).map((c) => c.phone).sort());
  });

  test('retries a failed call up to maxAttempts with a new attempt key, and records the outcome', async () => {
    const agentName = await agent();
    const taskQueue = uniqueTaskQueue('campaign');
    const list = [...contacts(2), { contactId: 'huge', data: { pad: 'x'.repeat(1024 * 1024) } }];
    const result = await withWorker(env, depsFor(sim), taskQueue, async () => {
      const handle = await startCampaign(
        env.client,
        { campaignId: `retry-${process.pid}`, agentName, contacts: list, concurrency: 2, retry: { maxAttempts: 2, backoffSec: [0.2] }, session: { statusPollSec: 0.2 } },
        { taskQueue },
      );
      return handle.result();
    });
    const huge = result.outcomes.find((o) => o.contactId === 'huge')!;
    assert.equal(huge.status, 'failed');
    assert.equal(huge.attempts, 2);
    assert.deepEqual(huge.endReasons, ['failed', 'failed']);
    assert.equal(result.progress.completed, 2);
    assert.equal(sim.sessions(agentName).length, 2, 'the oversized body never started a session');
  });

  test('the same campaign submitted twice runs once; progress is queryable', async () => {
    const agentName = await agent();
    const taskQueue = uniqueTaskQueue('campaign');
    const input = { campaignId: `twice-${process.pid}`, agentName, contacts: contacts(4), concurrency: 2, session: { statusPollSec: 0.2 } };
    await withWorker(env, depsFor(sim), taskQueue, async () => {
      const a = await startCampaign(env.client, input, { taskQueue });
      const b = await startCampaign(env.client, input, { taskQueue });
      assert.equal(a.firstExecutionRunId, b.firstExecutionRunId);
      const progress = await a.query(campaignProgressQuery);
      assert.equal(progress.total, 4);
      assert.ok(progress.live <= 2);
      await a.result();
      await assert.rejects(startCampaign(env.client, input, { taskQueue }), /already run/);
    });
    assert.equal(sim.sessions(agentName).length, 4);
  });

  test('invalid input names the fields and dials no one', async () => {
    await assert.rejects(
      startCampaign(env.client, { campaignId: 'bad id', contacts: [{ contactId: 'a' }, { contactId: 'a' }], concurrency: 0 }, { taskQueue: 'unused' }),
      (e: unknown) => /campaignId/.test(String(e)) && /concurrency/.test(String(e)),
    );
    // Options for every call are checked before the first dial, not by each call.
    await assert.rejects(
      startCampaign(env.client, { campaignId: 'bad-session', agentName: 'a', contacts: [{ contactId: 'a' }], session: { statusPollSec: 0, color: 'red' } }, { taskQueue: 'unused' }),
      (e: unknown) => /session\.statusPollSec/.test(String(e)) && /color/.test(String(e)),
    );
  });

  test('pause holds new dials, resume goes on; graceful cancel lets live calls finish and dials no one else', async () => {
    const agentName = await agent();
    const taskQueue = uniqueTaskQueue('campaign');
    const result = await withWorker(env, depsFor(sim), taskQueue, async () => {
      const handle = await startCampaign(
        env.client,
        { campaignId: `pause-${process.pid}`, agentName, contacts: contacts(10), concurrency: 2, session: { statusPollSec: 0.2 } },
        { taskQueue },
      );
      await handle.signal(campaignPauseSignal);
      await new Promise((r) => setTimeout(r, 1500));
      const paused = sim.sessions(agentName).length;
      assert.ok(paused <= 2, `dialled ${paused} while paused`);
      const progress = await handle.query(campaignProgressQuery);
      assert.equal(progress.paused, true);
      assert.equal(progress.live, 0, 'live calls finished while paused');
      await handle.signal(campaignResumeSignal);
      for (let i = 0; i < 50 && sim.sessions(agentName).length <= paused; i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(sim.sessions(agentName).length > paused, 'resumed');
      await handle.signal(campaignCancelSignal, { mode: 'graceful' });
      return handle.result();
    });
    const dialled = sim.sessions(agentName).length;
    assert.ok(dialled < 10);
    assert.equal(result.progress.live, 0);
    assert.equal(result.outcomes.filter((o) => o.status === 'cancelled').length, 10 - dialled);
    assert.equal(sim.liveSessionCount(agentName), 0);
  });

  test('immediate cancel stops live calls at once', async () => {
    const agentName = await agent();
    sim.setSessionBehaviour({ naturalDurationMs: null });
    const taskQueue = uniqueTaskQueue('campaign');
    try {
      const result = await withWorker(env, depsFor(sim), taskQueue, async () => {
        const handle = await startCampaign(
          env.client,
          { campaignId: `cancel-${process.pid}`, agentName, contacts: contacts(5), concurrency: 2, session: { statusPollSec: 0.2 } },
          { taskQueue },
        );
        for (let i = 0; i < 150 && sim.liveSessionCount(agentName) < 2; i++) await new Promise((r) => setTimeout(r, 100));
        assert.equal(sim.liveSessionCount(agentName), 2);
        await handle.signal(campaignCancelSignal, { mode: 'immediate' });
        return handle.result();
      });
      assert.equal(sim.liveSessionCount(agentName), 0);
      assert.equal(sim.sessions(agentName).length, 2);
      assert.equal(result.outcomes.filter((o) => o.status === 'cancelled').length, 3);
      assert.deepEqual(result.outcomes.filter((o) => o.attempts === 1).flatMap((o) => o.endReasons), ['stopped', 'stopped']);
    } finally {
      sim.setSessionBehaviour({ naturalDurationMs: { min: 250, max: 400 } });
    }
  });

  test('continues as new on a long list without losing or repeating a contact', async () => {
    const agentName = await agent();
    const taskQueue = uniqueTaskQueue('campaign');
    const campaignId = `can-${process.pid}`;
    const result = await withWorker(env, depsFor(sim), taskQueue, async () => {
      const handle = await startCampaign(
        env.client,
        { campaignId, agentName, contacts: contacts(30), concurrency: 5, continueAsNewAfterEvents: 60, session: { statusPollSec: 0.2 } },
        { taskQueue },
      );
      return handle.result();
    });
    assert.equal(result.progress.completed, 30);
    assert.equal(sim.sessions(agentName).length, 30);
    let runs = 0;
    for await (const wf of env.client.workflow.list({ query: `WorkflowId = 'campaign:${campaignId}'` })) if (wf) runs++;
    assert.ok(runs >= 2, `expected continue-as-new, saw ${runs} run(s)`);
  });
});
