import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { PipecatSimulator } from '../src/simulators/pipecat';
import { dataConverterFor } from '../src/security/data-converter';
import { depsFor, pipecatClientFor, startSim } from './helpers/pipecat';
import { createTestEnv, uniqueTaskQueue, withWorker } from './helpers/temporal';

const VAO = path.join(__dirname, '..', 'bin', 'vao.js');

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

function vao(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [VAO, ...args], {
      env: { ...process.env, TEMPORAL_ADDRESS: process.env.TEMPORAL_TEST_ADDRESS ?? '127.0.0.1:1', ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('vao CLI', () => {
  test('a missing required flag exits 2 with one line', async () => {
    const r = await vao(['deploy', 'bot']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--image/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  test('a non-numeric number exits 2 naming the flag', async () => {
    const r = await vao(['deploy', 'bot', '--image', 'a:1', '--max-agents', 'many']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--max-agents must be a whole number/);
  });

  test('invalid deploy input exits 2 naming each field, before touching Temporal', async () => {
    const r = await vao(['deploy', 'Bad_Name', '--image', 'notag', '--max-session-duration', '10'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /agentName/);
    assert.match(r.stderr, /image/);
    assert.match(r.stderr, /maxSessionDuration/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  test('an unknown command exits 2', async () => {
    const r = await vao(['deploi']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command/);
  });

  test('deploy waits for the workflow and prints the result; a failed deploy exits 1 with the platform reason', async () => {
    const taskQueue = uniqueTaskQueue('cli');
    await withWorker(env, depsFor(sim), taskQueue, async () => {
      const ok = await vao(['deploy', `cli-ok-${process.pid}`, '--image', 'acme/bot:1.0', '--poll-interval', '0.2'], { TEMPORAL_TASK_QUEUE: taskQueue });
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /status: +ready/);
      assert.match(ok.stdout, /action: +created/);

      const json = await vao(['deploy', `cli-ok-${process.pid}`, '--image', 'acme/bot:1.1', '--poll-interval', '0.2', '--json'], {
        TEMPORAL_TASK_QUEUE: taskQueue,
      });
      assert.equal(json.code, 0, json.stderr);
      const result = JSON.parse(json.stdout) as { status: string; previousImage: string };
      assert.equal(result.status, 'ready');
      assert.equal(result.previousImage, 'acme/bot:1.0');

      const bad = await vao(['deploy', `cli-bad-${process.pid}`, '--image', 'acme/does-not-exist:1', '--poll-interval', '0.2'], {
        TEMPORAL_TASK_QUEUE: taskQueue,
      });
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /PCC_IMAGE_NOT_FOUND/);
    });
  });

  test('session start: bad --data exits 2; --data with --data-file exits 2', async () => {
    const bad = await vao(['session', 'start', 'bot', '--data', '{nope']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--data is not valid JSON/);
    const both = await vao(['session', 'start', 'bot', '--data', '{}', '--data-file', 'x.json']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /not both/);
    const provider = await vao(['session', 'start', 'bot', '--provider', 'zoom']);
    assert.equal(provider.code, 2);
  });

  test('session start prints the room and token; list shows it live; stop --now ends it', async () => {
    const taskQueue = uniqueTaskQueue('cli-session');
    const agentName = `cli-sess-${process.pid}`;
    await pipecatClientFor(sim).createAgent({ serviceName: agentName, image: 'acme/bot:1.0', autoScaling: { minAgents: 0, maxAgents: 2 } });
    await new Promise((r) => setTimeout(r, 600));
    const keyEnv = { TEMPORAL_TASK_QUEUE: taskQueue, VAO_ENCRYPTION_KEYS: `test:${Buffer.alloc(32, 7).toString('base64')}` };
    await withWorker(env, depsFor(sim), taskQueue, async () => {
      const start = await vao(['session', 'start', agentName, '--key', `k-${process.pid}`, '--daily', '--data', '{"customer":"c-1"}'], keyEnv);
      assert.equal(start.code, 0, start.stderr);
      const info = JSON.parse(start.stdout) as { sessionId: string; dailyRoom: string; dailyToken: string };
      assert.match(info.dailyToken, /^eyJ/, 'the token was unsealed for the caller');
      assert.equal(sim.liveSessionCount(agentName), 1);
      const list = await vao(['session', 'list', '--json'], keyEnv);
      assert.equal(list.code, 0, list.stderr);
      const rows = JSON.parse(list.stdout) as Array<{ sessionId?: string; state?: string }>;
      assert.ok(rows.some((r) => r.sessionId === info.sessionId && r.state === 'live'));
      const stop = await vao(['session', 'stop', `k-${process.pid}`, '--now', '--wait'], keyEnv);
      assert.equal(stop.code, 0, stop.stderr);
      assert.equal((JSON.parse(stop.stdout) as { endReason: string }).endReason, 'stopped');
    }, { dataConverter: dataConverterFor(keyEnv.VAO_ENCRYPTION_KEYS) });
    assert.equal(sim.liveSessionCount(agentName), 0);
  });

  test('campaign start from CSV: bad rows reported by line and skipped, the rest dialled; status and results', async () => {
    const taskQueue = uniqueTaskQueue('cli-campaign');
    const agentName = `cli-camp-${process.pid}`;
    await pipecatClientFor(sim).createAgent({ serviceName: agentName, image: 'acme/bot:1.0', autoScaling: { minAgents: 0, maxAgents: 5 } });
    sim.setSessionBehaviour({ naturalDurationMs: { min: 100, max: 200 } });
    await new Promise((r) => setTimeout(r, 600));
    const id = `cli-${process.pid}`;
    try {
      await withWorker(env, depsFor(sim), taskQueue, async () => {
        const start = await vao(['campaign', 'start', '--file', path.join(__dirname, 'fixtures', 'contacts.csv'), '--agent', agentName, '--id', id, '--concurrency', '2'], {
          TEMPORAL_TASK_QUEUE: taskQueue,
        });
        assert.equal(start.code, 0, start.stderr);
        assert.match(start.stderr, /contacts\.csv:5: skipped: contactId/);
        assert.match(start.stderr, /contacts\.csv:6: skipped: Quote Not Closed/);
        assert.match(start.stderr, /3\/3 done/);
        const results = await vao(['campaign', 'results', id], { TEMPORAL_TASK_QUEUE: taskQueue });
        const outcomes = results.stdout.trim().split('\n').map((l) => JSON.parse(l) as { contactId: string; status: string });
        assert.deepEqual(outcomes.map((o) => o.contactId), ['c1', 'c2', 'c3']);
        assert.ok(outcomes.every((o) => o.status === 'completed'));
      });
    } finally {
      sim.setSessionBehaviour({ naturalDurationMs: null });
    }
    assert.equal(sim.sessions(agentName).length, 3);
    const missing = await vao(['campaign', 'start', '--file', 'nope.csv', '--agent', agentName]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read nope\.csv: ENOENT/);
  });
});
