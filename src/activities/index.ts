import { createCampaignActivities, type CampaignActivityDeps } from './campaign';
import { createDeployActivities, type DeployActivityDeps } from './deploy';
import { ApplicationFailure } from '@temporalio/common';
import { buildStartRequest, sessionWorkflowId, type AgentSessionOptions } from '../domain/session';
import { createSessionActivities, type SessionActivityDeps, type StartSessionActivityResult } from './session';
import { createValidationActivities } from './validation';

export type ActivityDeps = DeployActivityDeps & SessionActivityDeps & CampaignActivityDeps;

/** Every activity the worker registers, built from injected clients so tests swap endpoints, not code. */
export function createActivities(deps: ActivityDeps) {
  const session = createSessionActivities(deps);
  const validation = createValidationActivities();
  return {
    ...createDeployActivities(deps),
    ...session,
    ...createCampaignActivities(deps),
    ...validation,

    /**
     * The session fast path, run as a local activity in the first workflow task: validate, then send the
     * start once (no waiting). A start error comes back as data, so the workflow ends the session as
     * failed (and reports to its campaign) instead of treating it as bad input.
     */
    async validateAndTryStart(input: { raw: unknown; workflowId: string }): Promise<{
      options: AgentSessionOptions;
      first: StartSessionActivityResult | null;
      startError: { message: string; type: string; nonRetryable: boolean } | null;
    }> {
      const options = await validation.validateAgentSessionInput(input.raw);
      // The workflow refuses to run under another id; never send for it.
      if (input.workflowId !== sessionWorkflowId(options.provider, options.sessionKey)) return { options, first: null, startError: null };
      try {
        const first = await session.startAgentSession({ ...buildStartRequest(options, input.workflowId, Date.now()), firstTryOnly: true });
        return { options, first, startError: null };
      } catch (err) {
        if (!(err instanceof ApplicationFailure)) throw err;
        return { options, first: null, startError: { message: err.message, type: err.type ?? 'SessionStartFailed', nonRetryable: err.nonRetryable === true } };
      }
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
