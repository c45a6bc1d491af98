import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { startDeploy } from '../src/client/deploy';
import { deployWorkflowId } from '../src/domain/deploy';
import { sessionWorkflowId } from '../src/domain/session';
import { startSession } from '../src/client/session';
import { sessionStopSignal } from '../src/workflows/messages';
import type { PipecatSimulator } from '../src/simulators/pipecat';
import { depsFor, pipecatClientFor, seedLiveAgent, startSim, testSealer } from './helpers/pipecat';
import { createTestEnv, uniqueTaskQueue, withWorker, workflowBundle } from './helpers/temporal';

/**
 * Determinism guard: recorded histories must replay on today's workflow code. The committed fixtures
 * catch a change that would break workflows already running in production; `RECORD_HISTORIES=1`
 * rewrites them after an intended, versioned change.
 */
const FIXTURES = path.join(__dirname, 'fixtures', 'histories');

let env: TestWorkflowEnvironment;
let sim: PipecatSimulator;
before(async () => {
  env = await createTestEnv();
  sim = await startSim();
});
after(async () => {
  await sim?.close();
  await env?.teardown();
});

/** Workflows check their own id, so replay under the id the recorded run had (derived from its input). */
function workflowIdOf(history: ReturnType<typeof historyFromJSON>): string {
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const type = started?.workflowType?.name;
  const payload = started?.input?.payloads?.[0]?.data;
  const input = payload
    ? (JSON.parse(Buffer.from(payload).toString('utf8')) as { agentName?: string; provider?: 'pipecat' | 'videosdk'; sessionKey?: string })
    : {};
  if (type === 'deployAgent' && input.agentName) return deployWorkflowId(input.agentName);
  if (type === 'agentSession' && input.sessionKey) return sessionWorkflowId(input.provider ?? 'pipecat', input.sessionKey);
  throw new Error(`no workflow id rule for recorded ${type ?? 'unknown'} history`);
}

describe('workflow determinism (replay)', () => {
  test('a fresh deploy-with-rollback history replays on the current code', async () => {
    const agentName = `replay-${process.pid}`;
    await seedLiveAgent(sim, agentName, 'acme/bot:1.0');
    const taskQueue = uniqueTaskQueue('replay');
    const handle = await withWorker(env, depsFor(sim), taskQueue, async () => {
      const h = await startDeploy(env.client, { agentName, image: 'acme/does-not-exist:2.0', pollIntervalSec: 0.2 }, { taskQueue });
      const result = await h.result();
      assert.equal(result.status, 'rolled-back');
      return h;
    });
    const history = await handle.fetchHistory();
    assert.ok((history.events?.length ?? 0) > 10);
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, handle.workflowId);
    if (process.env.RECORD_HISTORIES === '1') {
      // The CLI's JSON is the format `temporal workflow show` and the Web UI export produce.
      const json = execFileSync(
        process.env.TEMPORAL_CLI_PATH!,
        ['workflow', 'show', '--workflow-id', handle.workflowId, '--output', 'json', '--address', process.env.TEMPORAL_TEST_ADDRESS!],
        { encoding: 'utf8' },
      );
      writeFileSync(path.join(FIXTURES, 'deploy-agent-rollback.json'), json);
    }
  });

  test('a fresh session history (start, graceful stop) replays on the current code', async () => {
    const agentName = `replay-s-${process.pid}`;
    await pipecatClientFor(sim).createAgent({ serviceName: agentName, image: 'acme/bot:1.0', autoScaling: { minAgents: 0, maxAgents: 2 } });
    await new Promise((r) => setTimeout(r, 700));
    const taskQueue = uniqueTaskQueue('replay');
    const sessionKey = `replay-${process.pid}`;
    const workflowId = sessionWorkflowId('pipecat', sessionKey);
    await withWorker(env, depsFor(sim), taskQueue, async () => {
      await startSession(env.client, { agentName, sessionKey, graceSec: 0.2, statusPollSec: 60 }, { taskQueue, sealer: testSealer });
      await env.client.workflow.getHandle(workflowId).signal(sessionStopSignal);
      assert.equal((await env.client.workflow.getHandle(workflowId).result()).endReason, 'stopped');
    });
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId);
    if (process.env.RECORD_HISTORIES === '1') {
      const json = execFileSync(
        process.env.TEMPORAL_CLI_PATH!,
        ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', '--address', process.env.TEMPORAL_TEST_ADDRESS!],
        { encoding: 'utf8' },
      );
      writeFileSync(path.join(FIXTURES, 'agent-session-stop.json'), json);
    }
  });

  test('every committed history replays on the current code', async () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 2, 'recorded histories are committed');
    for (const file of files) {
      const history = historyFromJSON(JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8')));
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowIdOf(history));
    }
  });
});
