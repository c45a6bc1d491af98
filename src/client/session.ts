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
      const cause = err.cause instanceof ApplicationFailure ? err.cause : undefined;
      throw new SessionNotStartedError(cause?.message ?? err.message, workflowId, cause?.type === 'Capacity' ? 'capacity' : 'failed', null);
    }
    throw err;
  }
}
