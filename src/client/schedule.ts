import type { Client, ScheduleOverlapPolicy } from '@temporalio/client';
import { campaignWorkflowId, type CampaignInput } from '../domain/campaign';
import { CampaignInputSchema } from '../domain/campaign-schema';
import { parseInput } from '../domain/validation';

export interface CampaignScheduleOptions {
  scheduleId: string;
  /** Cron expression(s) like "0 10 * * MON-FRI", or an interval like "24h"; exactly one of them. */
  cron?: string;
  every?: string;
  /** IANA time zone the cron is read in (default UTC). */
  timeZone?: string;
  overlap?: Exclude<ScheduleOverlapPolicy, 'UNSPECIFIED'>;
  /** How late a missed run may still start after an outage, e.g. "1h". */
  catchupWindow?: string;
  campaign: CampaignInput;
  taskQueue: string;
}

/**
 * Scheduled batch calls on a Temporal Schedule: each run starts the campaign under
 * `campaign:<campaignId>-<scheduled time>`, so every run dials with its own attempt keys. Overlap defaults
 * to SKIP: a run never starts while the previous one is still dialling.
 */
export async function createCampaignSchedule(client: Client, options: CampaignScheduleOptions) {
  const campaign = parseInput(CampaignInputSchema, options.campaign, 'campaign');
  if (Boolean(options.cron) === Boolean(options.every)) throw new Error('give exactly one of cron or every');
  return client.schedule.create({
    scheduleId: options.scheduleId,
    spec: {
      ...(options.cron ? { cronExpressions: [options.cron] } : { intervals: [{ every: options.every! as `${number}${string}` }] }),
      ...(options.timeZone ? { timezone: options.timeZone } : {}),
    },
    action: {
      type: 'startWorkflow',
      workflowType: 'campaign',
      workflowId: campaignWorkflowId(campaign.campaignId),
      taskQueue: options.taskQueue,
      args: [options.campaign],
    },
    policies: { overlap: options.overlap ?? 'SKIP', catchupWindow: (options.catchupWindow ?? '1h') as `${number}${string}` },
  });
}
