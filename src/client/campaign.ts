import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { campaignWorkflowId, type CampaignInput } from '../domain/campaign';
import { CampaignInputSchema } from '../domain/campaign-schema';
import { parseInput } from '../domain/validation';
import type { campaign } from '../workflows/campaign';

/**
 * Starts a campaign under `campaign:<campaignId>`. Submitting it again while it runs returns the running
 * campaign (no second dial of anyone); once it has finished, the id is spent and this throws.
 */
export async function startCampaign(
  client: Client,
  input: CampaignInput,
  options: { taskQueue: string },
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof campaign>> {
  const valid = parseInput(CampaignInputSchema, input, 'campaign');
  try {
    return await client.workflow.start<typeof campaign>('campaign', {
      workflowId: campaignWorkflowId(valid.campaignId),
      taskQueue: options.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new Error(`campaign ${valid.campaignId} has already run; use a new campaignId to dial again`);
    }
    throw err;
  }
}
