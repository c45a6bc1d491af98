import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { DeployAgentInputSchema } from '../domain/deploy-schema';
import { deployWorkflowId, type DeployAgentInput, type DeployStatus } from '../domain/deploy';
import { parseInput } from '../domain/validation';
import type { deployAgent } from '../workflows/deploy-agent';
import { deployStatusQuery } from '../workflows/messages';

export class DeployInProgressError extends Error {
  override readonly name = 'DeployInProgressError';
  constructor(
    readonly agentName: string,
    readonly workflowId: string,
    readonly running: DeployStatus | null,
  ) {
    super(
      `a deploy of ${agentName} is already running (workflow ${workflowId}${running ? `, image ${running.image}, phase ${running.phase}` : ''}); ` +
        'wait for it to finish or cancel it before starting another',
    );
  }
}

export type DeployHandle = WorkflowHandleWithFirstExecutionRunId<typeof deployAgent>;

/**
 * Starts `deployAgent` under the agent's deterministic workflow id. A second deploy of the same agent
 * while one runs is rejected with `DeployInProgressError` (rather than queued), because a queued deploy
 * would roll out an image its caller may no longer want by the time it runs; `waitForRunningDeploy`
 * lets a caller wait and retry deliberately.
 */
export async function startDeploy(client: Client, input: DeployAgentInput, options: { taskQueue: string }): Promise<DeployHandle> {
  const valid = parseInput(DeployAgentInputSchema, input, 'deployAgent');
  const workflowId = deployWorkflowId(valid.agentName);
  try {
    return await client.workflow.start<typeof deployAgent>('deployAgent', {
      workflowId,
      taskQueue: options.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      const running = await client.workflow
        .getHandle(workflowId)
        .query(deployStatusQuery)
        .catch(() => null);
      throw new DeployInProgressError(valid.agentName, workflowId, running);
    }
    throw err;
  }
}

/** Resolves once no deploy of the agent is running (whatever its outcome). */
export async function waitForRunningDeploy(client: Client, agentName: string): Promise<void> {
  const handle = client.workflow.getHandle(deployWorkflowId(agentName));
  try {
    await handle.result();
  } catch {
    // Its outcome is not ours to report; only that it ended.
  }
}
