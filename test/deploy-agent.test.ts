import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DeployInProgressError, startDeploy } from '../src/client/deploy';
import type { DeployAgentInput, DeployAgentResult } from '../src/domain/deploy';
import type { PipecatSimulator } from '../src/simulators/pipecat';
import { deployStatusQuery } from '../src/workflows/messages';
import { depsFor, seedLiveAgent, startSim } from './helpers/pipecat';
import { createTestEnv, uniqueTaskQueue, withWorker } from './helpers/temporal';

let env: TestWorkflowEnvironment;
let sim: PipecatSimulator;
let counter = 0;
const agentName = (label: string) => `${label}-${process.pid}-${++counter}`;

before(async () => {
  env = await createTestEnv();
  sim = await startSim();
});
after(async () => {
  await sim?.close();
  await env?.teardown();
});

async function deploy(input: DeployAgentInput, deps = depsFor(sim)): Promise<DeployAgentResult> {
  const taskQueue = uniqueTaskQueue('deploy');
  return withWorker(env, deps, taskQueue, async () => {
    const handle = await startDeploy(env.client, input, { taskQueue });
    return handle.result();
  });
}

/** Runs a deploy expected to fail and returns the workflow's failure. */
async function deployFailure(input: DeployAgentInput, deps = depsFor(sim)): Promise<ApplicationFailure> {
  const err = await deploy(input, deps).then(
    (res) => assert.fail(`expected the deploy to fail, got ${JSON.stringify(res)}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
  assert.ok(err.cause instanceof ApplicationFailure, `expected an ApplicationFailure cause, got ${String(err.cause)}`);
  return err.cause;
}

const fast = { pollIntervalSec: 0.2, readyTimeoutSec: 20 };

describe('deployAgent workflow (real Temporal server + Pipecat simulator)', () => {
  test('creates a new agent and waits until its deployment is live', async () => {
    const name = agentName('create');
    const result = await deploy({ agentName: name, image: 'acme/bot:1.0', secretSet: 'default-secrets', ...fast });
    assert.equal(result.status, 'ready');
    assert.equal(result.action, 'created');
    assert.equal(result.previousImage, null);
    const timelines = sim.deploymentTimelines(name);
    assert.equal(timelines.length, 1);
    assert.equal(result.deploymentId, timelines[0]!.deploymentId);
    assert.ok(result.polls >= 1);
  });

  test('updates an existing agent and reports the image it replaced', async () => {
    const name = agentName('update');
    await seedLiveAgent(sim, name, 'acme/bot:1.0');
    const result = await deploy({ agentName: name, image: 'acme/bot:2.0', ...fast });
    assert.equal(result.status, 'ready');
    assert.equal(result.action, 'updated');
    assert.equal(result.previousImage, 'acme/bot:1.0');
    const timelines = sim.deploymentTimelines(name);
    assert.equal(timelines.length, 2);
    assert.equal(result.deploymentId, timelines[1]!.deploymentId);
    assert.equal(timelines[1]!.image, 'acme/bot:2.0');
  });

  test('notices readiness within one poll interval of the platform turning ready, never before', async () => {
    const name = agentName('lateness');
    const pollIntervalSec = 0.5;
    await seedLiveAgent(sim, name, 'acme/bot:1.0');
    const result = await deploy({ agentName: name, image: 'acme/bot:1.1', pollIntervalSec, readyTimeoutSec: 20 });
    assert.equal(result.status, 'ready');
    const timeline = sim.deploymentTimelines(name).find((t) => t.deploymentId === result.deploymentId);
    assert.ok(timeline?.activeAt, 'simulator recorded when the deployment went live');
    const lateness = Date.parse(result.readyObservedAt!) - timeline.activeAt;
    assert.ok(lateness >= 0, `observed ready ${lateness} ms before the simulator turned ready`);
    assert.ok(lateness <= pollIntervalSec * 1000 + 150, `noticed ${lateness} ms late, more than one poll interval`);
  });

  test('a no-op deploy returns the platform warning and makes no new deployment', async () => {
    const name = agentName('noop');
    await seedLiveAgent(sim, name, 'acme/bot:1.0');
    const result = await deploy({ agentName: name, image: 'acme/bot:1.0', secretSet: 'default-secrets', autoScaling: { minAgents: 0, maxAgents: 5 }, ...fast });
    assert.equal(result.status, 'ready');
    assert.equal(result.action, 'unchanged');
    assert.ok(result.warning && result.warning.length > 0);
    assert.equal(sim.deploymentTimelines(name).length, 1);
  });

  test('errors[] fails fast with the platform code and message (no rollback target on a new agent)', async () => {
    const name = agentName('notfound');
    const started = Date.now();
    const failure = await deployFailure({ agentName: name, image: 'acme/does-not-exist:1.0', pollIntervalSec: 0.2, readyTimeoutSec: 60 });
    assert.equal(failure.type, 'DeployFailed');
    assert.match(failure.message, /PCC_IMAGE_NOT_FOUND/);
    assert.match(failure.message, /does-not-exist/);
    assert.ok(Date.now() - started < 15_000, 'failed long before the 60 s ready timeout');
    const [details] = failure.details as [DeployAgentResult];
    assert.equal(details.status, 'failed');
    assert.equal(details.failure?.code, 'PCC_IMAGE_NOT_FOUND');
    assert.equal(details.rollbackDeploymentId, null);
  });

  test('errors[] on an update rolls back to the previous image', async () => {
    const name = agentName('rollback-errors');
    await seedLiveAgent(sim, name, 'acme/bot:1.0');
    const result = await deploy({ agentName: name, image: 'acme/does-not-exist:2.0', ...fast });
    assert.equal(result.status, 'rolled-back');
    assert.equal(result.failure?.code, 'PCC_IMAGE_NOT_FOUND');
    const timelines = sim.deploymentTimelines(name);
    assert.equal(timelines.length, 3, 'seed, failed deploy, rollback');
    assert.equal(timelines[2]!.image, 'acme/bot:1.0');
    assert.equal(result.rollbackDeploymentId, timelines[2]!.deploymentId);
  });

  test('times out on a deployment that never becomes ready, then rolls back', async () => {
    const name = agentName('timeout');
    await seedLiveAgent(sim, name, 'acme/bot:1.0');
    const result = await deploy({
      agentName: name,
      image: 'acme/bot:crashloop-2.0',
      pollIntervalSec: 0.2,
      readyTimeoutSec: 2,
      crashLoopRestartLimit: 0,
    });
    assert.equal(result.status, 'rolled-back');
    assert.equal(result.failure?.code, 'Timeout');
    const timelines = sim.deploymentTimelines(name);
    assert.equal(timelines.at(-1)!.image, 'acme/bot:1.0');
  });

  test('a crash-looping revision fails without waiting out the timeout, then rolls back', async () => {
    const name = agentName('crashloop');
    await seedLiveAgent(sim, name, 'acme/bot:1.0');
    const started = Date.now();
    const result = await deploy({
      agentName: name,
      image: 'acme/bot:crashloop-3.0',
      pollIntervalSec: 0.2,
      readyTimeoutSec: 120,
      crashLoopRestartLimit: 1,
    });
    assert.equal(result.status, 'rolled-back');
    assert.equal(result.failure?.code, 'CrashLoopBackOff');
    assert.ok(Date.now() - started < 60_000);
  });

  test('rollbackOnFailure=false leaves the failed deploy failed', async () => {
    const name = agentName('norollback');
    await seedLiveAgent(sim, name, 'acme/bot:1.0');
    const failure = await deployFailure({ agentName: name, image: 'acme/does-not-exist:2.0', rollbackOnFailure: false, ...fast });
    assert.match(failure.message, /PCC_IMAGE_NOT_FOUND/);
    assert.equal(sim.deploymentTimelines(name).length, 2);
  });

  test('two concurrent deploys of one agent: the second is rejected with a clear error', async () => {
    const name = agentName('concurrent');
    const taskQueue = uniqueTaskQueue('deploy');
    await withWorker(env, depsFor(sim), taskQueue, async () => {
      const first = await startDeploy(env.client, { agentName: name, image: 'acme/bot:1.0', ...fast }, { taskQueue });
      const second = await startDeploy(env.client, { agentName: name, image: 'acme/bot:9.9', ...fast }, { taskQueue }).then(
        () => assert.fail('second deploy started'),
        (e: unknown) => e,
      );
      assert.ok(second instanceof DeployInProgressError);
      assert.match(second.message, /already running/);
      assert.equal(second.workflowId, first.workflowId);
      const status = await first.query(deployStatusQuery);
      assert.equal(status.image, 'acme/bot:1.0');
      const result = await first.result();
      assert.equal(result.status, 'ready');
    });
    const timelines = sim.deploymentTimelines(name);
    assert.deepEqual(timelines.map((t) => t.image), ['acme/bot:1.0']);
  });

  test('invalid input fails at once, non-retryable, naming every bad field, and calls no API', async () => {
    sim.resetCounts();
    const taskQueue = uniqueTaskQueue('deploy');
    const err = await withWorker(env, depsFor(sim), taskQueue, () =>
      env.client.workflow.execute('deployAgent', {
        workflowId: 'deploy-agent:Bad_Name',
        taskQueue,
        args: [{ agentName: 'Bad_Name', image: 'noTag', maxSessionDuration: 5, autoScaling: { minAgents: 3, maxAgents: 1 }, bogus: 1 }],
      }),
    ).then(
      () => assert.fail('invalid input accepted'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    const cause = err.cause as ApplicationFailure;
    assert.equal(cause.type, 'InvalidInput');
    assert.equal(cause.nonRetryable, true);
    for (const field of ['agentName', 'image', 'maxSessionDuration', 'autoScaling.maxAgents', 'bogus']) {
      assert.match(cause.message, new RegExp(field.replace('.', '\\.')), `names ${field}`);
    }
    assert.deepEqual(sim.requestCounts(), {});
  });

  test('the client helper rejects invalid input before starting anything', async () => {
    const err = await startDeploy(env.client, { agentName: 'ok-name', image: 'x:1', pollIntervalSec: 0 }, { taskQueue: 'unused' }).then(
      () => assert.fail('accepted'),
      (e: unknown) => e as Error,
    );
    assert.match(err.message, /pollIntervalSec/);
  });

  test('a wrong API key fails at once with the platform message and no retry loop', async () => {
    sim.resetCounts();
    const failure = await deployFailure({ agentName: agentName('badkey'), image: 'acme/bot:1.0', ...fast }, depsFor(sim, { privateApiKey: 'wrong' }));
    assert.match(failure.message, /401/);
    assert.match(failure.message, /Unauthorized/);
    assert.equal(sim.requestCounts()['GET /agents/:name'], 1, 'exactly one request, no retries');
  });

  test('survives bursts of 5xx and connection resets', async () => {
    const name = agentName('faults');
    sim.setFaults({ errorRate: 0.3, resetRate: 0.15 });
    try {
      const result = await deploy({ agentName: name, image: 'acme/bot:1.0', ...fast }, depsFor(sim, { timeoutMs: 1000 }));
      assert.equal(result.status, 'ready');
      assert.equal(sim.deploymentTimelines(name).length, 1, 'exactly one deployment despite retries');
    } finally {
      sim.setFaults({ errorRate: 0, resetRate: 0 });
    }
  });

  test('a create whose response was lost is adopted on retry, not duplicated', async () => {
    const name = agentName('lost-create');
    sim.setFaults({ dropResponseRate: 1, routes: ['POST /agents'] });
    try {
      const result = await deploy({ agentName: name, image: 'acme/bot:1.0', ...fast });
      assert.equal(result.status, 'ready');
      assert.equal(result.action, 'adopted');
      assert.equal(sim.deploymentTimelines(name).length, 1);
    } finally {
      sim.setFaults({ dropResponseRate: 0, routes: undefined });
    }
  });
});
