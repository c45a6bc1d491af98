import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../src/activities';
import { startDeploy } from '../src/client/deploy';
import { startTracing, type Tracing } from '../src/ops/tracing';
import type { PipecatSimulator } from '../src/simulators/pipecat';
import { createWorker } from '../src/worker';
import { depsFor, startSim } from './helpers/pipecat';
import { createTestEnv, uniqueTaskQueue } from './helpers/temporal';

let env: TestWorkflowEnvironment;
let sim: PipecatSimulator;
let tracing: Tracing;
const spans = new InMemorySpanExporter();
before(async () => {
  env = await createTestEnv();
  sim = await startSim({ timing: { reconcileDelayMs: 0, creatingMs: 0, validatingMs: 0 } });
  tracing = startTracing({ serviceName: 'vao-test', spanProcessor: new SimpleSpanProcessor(spans) });
});
after(async () => {
  await tracing?.shutdown();
  await sim?.close();
  await env?.teardown();
});

describe('OpenTelemetry tracing (official interceptors, as a plugin)', () => {
  test('one trace runs from the client start through the workflow to its activities; no key in any span', async () => {
    const taskQueue = uniqueTaskQueue('trace');
    const client = new Client({ connection: env.client.connection, plugins: [tracing.plugin] });
    const worker = await createWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue,
      activities: createActivities(depsFor(sim)),
      plugins: [tracing.plugin],
    });
    const agentName = `trace-${process.pid}`;
    await worker.runUntil(async () => {
      const handle = await startDeploy(client, { agentName, image: 'acme/bot:1.0', pollIntervalSec: 0.2 }, { taskQueue });
      assert.equal((await handle.result()).status, 'ready');
    });
    const finished = spans.getFinishedSpans();
    const byName = (prefix: string) => finished.filter((s) => s.name.startsWith(prefix));
    const start = byName('StartWorkflow:deployAgent')[0];
    assert.ok(start, `a client span; got ${[...new Set(finished.map((s) => s.name))].join(', ')}`);
    const trace = start.spanContext().traceId;
    assert.ok(byName('RunWorkflow:deployAgent').some((s) => s.spanContext().traceId === trace), 'the workflow run joins the trace');
    assert.ok(byName('RunActivity:applyAgentDeploy').some((s) => s.spanContext().traceId === trace), 'its activities too');
    const everything = JSON.stringify(finished.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events })));
    assert.equal(everything.includes(sim.privateApiKey), false);
    assert.equal(finished[0]!.resource.attributes['service.name'], 'vao-test');
  });
});
