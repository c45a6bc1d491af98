import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { WaitForDeploymentResult } from '../activities/deploy';
import {
  DEPLOY_FAILED,
  deployWorkflowId,
  specFromInput,
  type AgentDeploySpec,
  type DeployAgentInput,
  type DeployAgentResult,
  type DeployFailureInfo,
  type DeployStatus,
} from '../domain/deploy';
import { deployStatusQuery } from './messages';
import { deploysFinished } from './metrics';


export { deployStatusQuery };


const { describeAgent, applyAgentDeploy } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 12 },
});

/** Validation runs in a local activity so zod is not instantiated per workflow (see activities/validation.ts). */
async function validateInput(raw: DeployAgentInput) {
  try {
    return await proxyLocalActivities<Activities>({ startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 3 } }).validateDeployAgentInput(raw);
  } catch (err) {
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) throw err.cause;
    throw err;
  }
}

/** After this many state changes, stop asking the poller to report each one: history stays bounded. */
const MAX_REPORTED_CHANGES = 40;

export async function deployAgent(rawInput: DeployAgentInput): Promise<DeployAgentResult> {
  // The status query answers from the first activation on, even while the input is being validated.
  const status: DeployStatus = {
    agentName: typeof rawInput?.agentName === 'string' ? rawInput.agentName : '',
    phase: 'validating',
    image: typeof rawInput?.image === 'string' ? rawInput.image : '',
    previousImage: null,
    deploymentId: null,
    rollbackDeploymentId: null,
    lastRevision: null,
    polls: 0,
    failure: null,
  };
  setHandler(deployStatusQuery, () => status);
  const input = await validateInput(rawInput);
  const expectedId = deployWorkflowId(input.agentName);
  if (workflowInfo().workflowId !== expectedId) {
    throw ApplicationFailure.nonRetryable(
      `deployAgent for ${input.agentName} must run as workflow id "${expectedId}" so two deploys of one agent never overlap`,
      'InvalidInput',
    );
  }

  const startedAt = Date.now();
  const pollIntervalMs = Math.round(input.pollIntervalSec * 1000);
  status.agentName = input.agentName;
  status.image = input.image;
  status.phase = 'inspecting';

  const { waitForDeployment } = proxyActivities<Activities>({
    startToCloseTimeout: (input.readyTimeoutSec + 60) * 1000,
    heartbeatTimeout: pollIntervalMs * 2 + 30_000,
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: Math.max(1000, pollIntervalMs) },
    scheduleToCloseTimeout: (input.readyTimeoutSec + 300) * 1000,
  });

  async function waitUntilLive(agentName: string, deploymentId: string, appliedAtMs: number): Promise<WaitForDeploymentResult> {
    const deadlineMs = appliedAtMs + input.readyTimeoutSec * 1000;
    let firstPollAtMs = appliedAtMs + pollIntervalMs;
    for (let changes = 0; ; changes++) {
      const result = await waitForDeployment({
        agentName,
        deploymentId,
        deadlineMs,
        firstPollAtMs,
        pollIntervalMs,
        lastSnapshot: status.lastRevision,
        returnOnChange: changes < MAX_REPORTED_CHANGES,
        crashLoopRestartLimit: input.crashLoopRestartLimit,
      });
      status.polls += result.polls;
      if (result.snapshot) status.lastRevision = result.snapshot;
      if (result.outcome !== 'changed') return result;
      firstPollAtMs = result.observedAtMs + pollIntervalMs;
    }
  }

  const result = (fields: Partial<DeployAgentResult> & Pick<DeployAgentResult, 'status'>): DeployAgentResult => {
    deploysFinished.add(1, { result: fields.status });
    return {
      agentName: input.agentName,
      deploymentId: status.deploymentId,
      image: input.image,
      previousImage: status.previousImage,
      action: null,
      rollbackDeploymentId: status.rollbackDeploymentId,
      failure: status.failure,
      warning: null,
      polls: status.polls,
      readyObservedAt: null,
      elapsedMs: Date.now() - startedAt,
      ...fields,
    };
  };

  try {
    const before = await describeAgent(input.agentName);
    status.previousImage = before.current?.image ?? null;

    status.phase = 'deploying';
    const applied = await applyAgentDeploy({
      agentName: input.agentName,
      spec: specFromInput(input),
      forceRedeploy: input.forceRedeploy,
      agentExists: before.exists,
      priorDeploymentId: before.desiredDeploymentId,
    });
    status.deploymentId = applied.deploymentId;

    status.phase = 'waiting';
    const outcome = await waitUntilLive(input.agentName, applied.deploymentId, applied.appliedAtMs);
    if (outcome.outcome === 'ready') {
      status.phase = 'done';
      return result({
        status: 'ready',
        action: applied.action,
        warning: applied.warning,
        readyObservedAt: new Date(outcome.observedAtMs).toISOString(),
      });
    }
    status.failure = outcome.failure;

    const rollbackSpec = rollbackTarget(before.current, applied.deploymentId, before.desiredDeploymentId);
    if (input.rollbackOnFailure && rollbackSpec && outcome.failure?.code !== 'Superseded') {
      status.phase = 'rolling-back';
      status.lastRevision = null;
      const rollback = await applyAgentDeploy({
        agentName: input.agentName,
        spec: rollbackSpec,
        forceRedeploy: true,
        agentExists: true,
        priorDeploymentId: applied.deploymentId,
      });
      status.rollbackDeploymentId = rollback.deploymentId;
      status.phase = 'waiting-rollback';
      const rolledBack = await waitUntilLive(input.agentName, rollback.deploymentId, rollback.appliedAtMs);
      status.phase = 'done';
      if (rolledBack.outcome === 'ready') {
        return result({ status: 'rolled-back', action: applied.action, warning: applied.warning });
      }
      const failure: DeployFailureInfo = {
        code: outcome.failure?.code ?? 'Unknown',
        message: `${outcome.failure?.message ?? 'deploy failed'}; rollback to ${rollbackSpec.image} also failed: ${rolledBack.failure?.message ?? rolledBack.outcome}`,
      };
      status.failure = failure;
      throw deployFailed(result({ status: 'failed', action: applied.action, failure }));
    }
    status.phase = 'done';
    throw deployFailed(result({ status: 'failed', action: applied.action, warning: applied.warning }));
  } catch (err) {
    status.phase = 'done';
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
      // Surface the provider's own words (e.g. "HTTP 401: Unauthorized / token expired") as the workflow's failure.
      status.failure = { code: err.cause.type ?? 'ActivityFailed', message: err.cause.message };
      throw deployFailed(result({ status: 'failed' }), err.cause.message, err.cause.type ?? undefined);
    }
    throw err;
  }
}

/**
 * Roll back only to a known version that our deploy actually replaced (a no-op deploy has nothing to undo).
 * The same image with other settings changed still rolls back: the previous settings are restored.
 */
function rollbackTarget(
  previous: AgentDeploySpec | null,
  deploymentId: string,
  priorDeploymentId: string | null,
): AgentDeploySpec | null {
  if (!previous || priorDeploymentId === null || deploymentId === priorDeploymentId) return null;
  return previous;
}

function deployFailed(res: DeployAgentResult, message?: string, cause?: string): ApplicationFailure {
  const reason = message ?? `${res.failure?.code ?? 'Unknown'}: ${res.failure?.message ?? 'deploy failed'}`;
  return ApplicationFailure.create({
    message: `Deploy of ${res.agentName} (${res.image}) failed: ${reason}`,
    type: cause ? `${DEPLOY_FAILED}.${cause}` : DEPLOY_FAILED,
    nonRetryable: true,
    details: [res],
  });
}
