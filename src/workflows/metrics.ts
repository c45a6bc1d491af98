import { metricMeter } from '@temporalio/workflow';

/**
 * Business metrics emitted from workflow code. The SDK drops them while a workflow replays, so a
 * worker restart does not count a session twice; they reach the same Prometheus endpoint as the
 * Temporal runtime's own metrics (VAO_METRICS_PORT), tagged with namespace, task queue and workflow type.
 */
export const sessionsEnded = metricMeter.createCounter('vao_sessions_ended', 'sessions', 'Agent sessions that ended, by provider and end reason');
export const sessionCapacityWait = metricMeter.createHistogram(
  'vao_session_capacity_wait',
  'int',
  'ms',
  'Time a session waited for agent capacity (429s) before the platform accepted it',
);
export const deploysFinished = metricMeter.createCounter('vao_deploys', 'deploys', 'Agent deploys that finished, by result');
export const campaignContacts = metricMeter.createGauge('vao_campaign_contacts', 'int', 'contacts', 'Contacts of a running campaign, by state');
