import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { AgentSessionInputSchema } from '../domain/session-schema';
import { sessionWorkflowId, type AgentSessionInput, type AgentSessionResult, type SealedStartInfo, type StartInfo } from '../domain/session';
import { parseInput } from '../domain/validation';
import type { Sealer } from '../security/sealing';
import type { agentSession } from '../workflows/agent-session';
import { sessionStartedUpdate } from '../workflows/messages';

export class SessionNotStartedError extends Error {
  override readonly name = 'SessionNotStartedError';
  constructor(
    message: string,
    readonly workflowId: string,
    /** `capacity`, `failed`, or the end reason of an earlier run with the same key. */
    readonly reason: string,
    readonly result: AgentSessionResult | null,
  ) {
    super(message);
  }
}

function innermostApplicationFailure(err: unknown): ApplicationFailure | undefined {
  let found: ApplicationFailure | undefined;
  for (let e = err; e instanceof Error; e = (e as { cause?: unknown }).cause) if (e instanceof ApplicationFailure) found = e;
  return found;
}

export function openStartInfo(sealed: SealedStartInfo, sealer: Sealer): StartInfo {
  const { dailyTokenSealed, tokenSealed, iceConfigSealed, ...rest } = sealed;
  return {
    ...rest,
    dailyToken: sealer.openOptional(dailyTokenSealed),
    token: sealer.openOptional(tokenSealed),
    iceConfig: iceConfigSealed ? (JSON.parse(sealer.open(iceConfigSealed)) as unknown) : null,
  };
}

/**
 * Starts (or joins) the `agentSession` workflow for `sessionKey` and returns the platform's answer as soon
 * as it accepted the session, in one round trip (update-with-start). The same key again returns the same
 * session while it runs; once it has ended, the key is spent and this throws `SessionNotStartedError`
 * with the earlier run's result, never starting a second session.
 */
export async function startSession(
  client: Client,
  input: AgentSessionInput,
  options: { taskQueue: string; sealer: Sealer },
): Promise<StartInfo> {
  const valid = parseInput(AgentSessionInputSchema, input, 'agentSession');
  const workflowId = sessionWorkflowId(valid.provider, valid.sessionKey);
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof agentSession>('agentSession', {
    workflowId,
    taskQueue: options.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
  });
  try {
    const sealed = await client.workflow.executeUpdateWithStart(sessionStartedUpdate, { startWorkflowOperation });
    return openStartInfo(sealed, options.sealer);
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      // The key was used by a run that has ended: report it instead of starting a second session.
      const handle = client.workflow.getHandle<typeof agentSession>(workflowId);
      const result = await handle.result().catch((e: unknown) => {
        const details = e instanceof WorkflowFailedError && e.cause instanceof ApplicationFailure ? e.cause.details?.[0] : undefined;
        return (details as AgentSessionResult | undefined) ?? null;
      });
      throw new SessionNotStartedError(
        `sessionKey ${valid.sessionKey} was already used by session ${result?.sessionId ?? '(none)'}, which ended (${result?.endReason ?? 'unknown'})`,
        workflowId,
        result?.endReason ?? 'unknown',
        result,
      );
    }
    if (err instanceof WorkflowUpdateFailedError) {
      // A workflow that ended before it could answer (its input refused, say) tells why in its own failure.
      const answered = err.cause instanceof ApplicationFailure && !/completed before the Update completed/i.test(err.cause.message) ? err.cause : undefined;
      const cause =
        answered ??
        (await client.workflow
          .getHandle(workflowId)
          .result()
          .then(
            (result: AgentSessionResult) => (result.error ? ApplicationFailure.nonRetryable(result.error, result.errorType ?? result.endReason) : undefined),
            (e: unknown) => (e instanceof WorkflowFailedError ? innermostApplicationFailure(e.cause) : undefined),
          ));
      throw new SessionNotStartedError(cause?.message ?? err.message, workflowId, cause?.type === 'Capacity' ? 'capacity' : 'failed', null);
    }
    throw err;
  }
}
