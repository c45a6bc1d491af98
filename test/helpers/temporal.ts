import { randomUUID } from 'node:crypto';
import type { DataConverter } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Runtime, DefaultLogger, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../src/activities';
import { SESSION_ID_SEARCH_ATTRIBUTE } from '../../src/domain/session';
import { resolveTemporalCli } from '../../src/temporal/dev-server';
import { governorWatchFrom } from '../../src/temporal/governor-watch';
import { sessionClaimsFrom } from '../../src/temporal/session-claims';
import { WORKFLOWS_PATH } from '../../src/worker';

let runtimeInstalled = false;
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger((process.env.TEST_LOG_LEVEL as never) ?? 'ERROR') });
}

/**
 * A real Temporal server: the run's shared dev server (`npm test` starts it and sets
 * TEMPORAL_TEST_ADDRESS), or one started for this file when a test file is run on its own.
 */
export async function createTestEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const address = process.env.TEMPORAL_TEST_ADDRESS;
  if (address) return TestWorkflowEnvironment.createFromExistingServer({ address });
  const path = await resolveTemporalCli(process.env.TEMPORAL_CLI_PATH || undefined);
  return TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path }, searchAttributes: [SESSION_ID_SEARCH_ATTRIBUTE] } });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  return bundle;
}

export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

/** Runs `fn` while a worker with real activities (on the given provider deps) serves `taskQueue`. */
export async function withWorker<T>(
  env: TestWorkflowEnvironment,
  deps: ActivityDeps,
  taskQueue: string,
  fn: () => Promise<T>,
  options: { dataConverter?: DataConverter } = {},
): Promise<T> {
  const worker = await Worker.create({
    dataConverter: options.dataConverter,
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: await workflowBundle(),
    // Reconciliation asks this server which session ids other session workflows hold, as the worker does.
    activities: createActivities({
      ...deps,
      sessionClaims: deps.sessionClaims ?? sessionClaimsFrom(env.client),
      governorRunning: deps.governorRunning ?? governorWatchFrom(env.client),
    }),
  });
  return worker.runUntil(fn);
}
