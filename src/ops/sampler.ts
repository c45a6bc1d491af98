import type { Client } from '@temporalio/client';
import type { MetricMeter } from '@temporalio/common';
import type { Logger } from '../logging';

/**
 * Live counts no single workflow can know: how many session and campaign workflows are running in
 * the namespace (sessions waiting for capacity included), read from Temporal's visibility store.
 * Every worker reports the same cluster-wide value; aggregate with max(), not sum().
 */
export function startRunningWorkflowSampler(options: { client: Client; meter: MetricMeter; intervalMs: number; logger: Logger }): () => void {
  const gauge = options.meter.createGauge('vao_workflows_running', 'int', 'workflows', 'Running workflows in the namespace, by type (from visibility)');
  const types = ['agentSession', 'campaign', 'deployAgent'];
  let failing = false;
  const sample = async () => {
    try {
      for (const type of types) {
        const { count } = await options.client.workflow.count(`WorkflowType="${type}" AND ExecutionStatus="Running"`);
        gauge.set(count, { workflow_type: type });
      }
      failing = false;
    } catch (err) {
      if (!failing) options.logger.warn('Could not count running workflows for metrics', { error: (err as Error).message });
      failing = true;
    }
  };
  void sample();
  const timer = setInterval(() => void sample(), options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
