import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { startDeploy } from '../src/client/deploy';
import type { PipecatSimulator } from '../src/simulators/pipecat';
import { depsFor, seedLiveAgent, startSim } from './helpers/pipecat';
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
      writeFileSync(path.join(FIXTURES, 'deploy-agent-rollback.json'), historyToJSON(history));
    }
  });

  test('every committed history replays on the current code', async () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 1, 'at least one recorded history is committed');
    for (const file of files) {
      const history = historyFromJSON(JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8')));
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file);
    }
  });
});
