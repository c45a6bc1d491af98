import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { SessionTarget } from '../activities/session';
import {
  buildStartRequest,
  SESSION_ID_SEARCH_ATTRIBUTE,
  sessionSchedule,
  sessionWorkflowId,
  type AgentSessionInput,
  type AgentSessionOptions,
  type AgentSessionResult,
  type EndReason,
  type SealedStartInfo,
  type SessionStatus,
} from '../domain/session';
import { governorWorkflowId } from '../domain/campaign';
import { adhocSessionSignal, callReportSignal, sessionEndedSignal, sessionStartedUpdate, sessionStatusQuery, sessionStopNowSignal, sessionStopSignal } from './messages';
import { sessionCapacityWait, sessionsEnded } from './metrics';

const validator = proxyLocalActivities<Activities>({ startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 3 } });
// Every remote activity heartbeats each second while it runs (withFailureMapping): a 5 s heartbeat
// timeout notices a killed worker long before the start-to-close timeout would.
const quick = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: '5 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 5 },
});
const goodbyeActivity = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  heartbeatTimeout: '5 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '2 seconds', maximumAttempts: 3 },
});
/** Stopping must get through: a session left running is billed. Retried for up to an hour. */
const stopper = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: '5 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/** `ended` sources that speak for the platform: the receiver after checking the webhook's signature, and our own status poll. */
const PLATFORM_END_SOURCES = new Set(['videosdk-webhook', 'poll']);

/**
 * One voice-agent session from start to stop, on Pipecat Cloud or VideoSDK: start with capacity backoff,
 * tell the bot its deadline, say goodbye before the platform's hard cap, stop, and never leave a session
 * running — also when cancelled. Callers get the room/socket through the `started` update.
 */
export async function agentSession(rawInput: AgentSessionInput): Promise<AgentSessionResult> {
  const status: SessionStatus = {
    state: 'starting',
    sessionId: null,
    startedAt: null,
    deadline: null,
    goodbyeAt: null,
    endReason: null,
    attempts: 0,
  };
  let startInfo: SealedStartInfo | null = null;
  let startFailure: ApplicationFailure | null = null;
  let endedBy: string | null = null;
  let stopMode: 'graceful' | 'now' | null = null;
  let capacityWaitMs = 0;

  // Every change since the first release is behind a patch. A session started by this build records one
  // marker for all of them, here, instead of one per change: each marker also upserts the
  // TemporalChangeVersion search attribute, an event and a visibility write per session. Sessions started by
  // earlier builds have no such marker and keep deciding change by change.
  const thisBuild = patched('agent-session-2026-11-27');
  const changed = (patchId: string) => thisBuild || patched(patchId);

  setHandler(sessionStatusQuery, () => status);
  setHandler(sessionStartedUpdate, async () => {
    await condition(() => startInfo !== null || startFailure !== null);
    if (startInfo) return startInfo;
    throw startFailure!;
  });
  // An `ended` naming another session is ignored (webhook URLs are not signed); one that arrives before
  // our start returned is kept until we know our session id.
  const endedEarly = new Map<string, string>();
  setHandler(sessionEndedSignal, (event) => {
    if (event?.sessionId && status.sessionId === null) {
      endedEarly.set(event.sessionId, event.source ?? 'signal');
      return;
    }
    if (event?.sessionId && event.sessionId !== status.sessionId) {
      log.warn('Ignoring an ended signal for another session', { got: event.sessionId, ours: status.sessionId });
      return;
    }
    endedBy ??= event?.source ?? 'signal';
  });
  setHandler(sessionStopSignal, () => {
    stopMode ??= 'graceful';
  });
  setHandler(sessionStopNowSignal, () => {
    stopMode = 'now';
  });

  // Validate only after the handlers exist, so an update-with-start on bad input gets the error too.
  // (A fast path that sent the start from a local activity in the first workflow task was taken out: the
  // crash test found it dialling a contact twice after a kill -9; see docs/sessions.md.)
  let input: AgentSessionOptions;
  try {
    // A campaign's call comes with options its campaign has validated and completed, and only a workflow can
    // be a parent (a client cannot claim one): it skips the local activity, an activation less per call.
    const fromCampaign = rawInput.normalized === true && (workflowInfo().parent?.workflowId.startsWith('campaign:') ?? false);
    input = fromCampaign && changed('trust-campaign-validation') ? (rawInput as AgentSessionOptions) : await validator.validateAgentSessionInput(rawInput);
  } catch (err) {
    // zod runs in a local activity, not here: see activities/validation.ts.
    const failure = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : (err as ApplicationFailure);
    startFailure = failure;
    await condition(allHandlersFinished);
    throw failure;
  }
  const workflowId = workflowInfo().workflowId;
  const expectedId = sessionWorkflowId(input.provider, input.sessionKey);
  if (workflowId !== expectedId) {
    startFailure = ApplicationFailure.nonRetryable(`agentSession must run as workflow id "${expectedId}" so one sessionKey gives one session`, 'InvalidInput');
    await condition(allHandlersFinished);
    throw startFailure;
  }
  const goodbye = input.goodbye ?? (input.provider === 'pipecat' ? { kind: 'session-proxy' as const, path: '/goodbye' } : { kind: 'none' as const });
  const target: SessionTarget = { provider: input.provider, agentName: input.agentName, deploymentId: input.deploymentId, tag: input.tag };

  const governorId = governorWorkflowId(input.provider, input.agentName ?? input.deploymentId ?? '');
  let toldGovernor = false;
  const tellGovernor = (live: boolean, untilMs: number) => {
    toldGovernor = live;
    // No governor means no campaign shares this agent: nothing to tell.
    getExternalWorkflowHandle(governorId)
      .signal(adhocSessionSignal, { workflowId, live, untilMs })
      .catch(() => undefined);
  };
  const startedAtMs = () => (status.startedAt ? Date.parse(status.startedAt) : null);
  const finish = async (endReason: EndReason, error: string | null = null, errorType: string | null = null): Promise<AgentSessionResult> => {
    status.state = 'ended';
    status.endReason = endReason;
    startFailure ??= ApplicationFailure.nonRetryable(error ?? `session ended: ${endReason}`, endReason === 'capacity' ? 'Capacity' : 'SessionNotStarted');
    if (toldGovernor) tellGovernor(false, 0);
    await condition(allHandlersFinished);
    const started = startedAtMs();
    const endedAt = Date.now();
    sessionsEnded.add(1, { provider: input.provider, reason: endReason });
    const result: AgentSessionResult = {
      sessionId: status.sessionId,
      startedAt: status.startedAt,
      endedAt: new Date(endedAt).toISOString(),
      durationSec: started === null ? null : Math.round((endedAt - started) / 1000),
      endReason,
      attempts: status.attempts,
      capacityWaitMs,
      error,
      errorType,
    };
    if (input.reportTo) {
      // Tell the campaign by workflow id: it may have continued-as-new since it started this call.
      await getExternalWorkflowHandle(input.reportTo)
        .signal(callReportSignal, {
          contactId: input.reportTag?.contactId ?? '',
          attempt: input.reportTag?.attempt ?? 0,
          sessionKey: input.sessionKey,
          result,
          error,
        })
        .catch((err: unknown) => log.warn('Could not report the session result', { reportTo: input.reportTo, error: (err as Error).message }));
    }
    return result;
  };

  let startRequest: Parameters<Activities['startAgentSession']>[0] | null = null;
  let startRequestedAtMs: number | null = null;
  const stopSession = async () => {
    if (!status.sessionId) {
      // Interrupted mid-start: a session may exist that we never heard of. Find it and stop it.
      if (startRequest && startRequestedAtMs !== null) {
        const req = { ...startRequest, sinceMs: startRequestedAtMs };
        const cleaned = await CancellationScope.nonCancellable(() => stopper.stopUnconfirmedStart(req));
        if (cleaned.stopped) status.sessionId = cleaned.stopped;
        if (cleaned.unknown) log.warn('Could not confirm whether an interrupted start created a session', { detail: cleaned.unknown });
      }
      return;
    }
    status.state = 'stopping';
    // Cleanup must run even when the workflow is being cancelled.
    await CancellationScope.nonCancellable(() => stopper.stopAgentSession({ ...target, sessionId: status.sessionId! }));
  };

  try {
    const starter = proxyActivities<Activities>({
      startToCloseTimeout: (input.startTimeoutSec + 120) * 1000,
      // Short, so a crashed worker's start is retried (and reconciled) within seconds; the activity
      // heartbeats every second, also while a request is in flight.
      heartbeatTimeout: '5 seconds',
      retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 5 },
    });
    status.state = 'waiting-capacity';
    startRequest = buildStartRequest(input, workflowId, Date.now());
    // The earliest moment a send can have happened: interrupted starts are reconciled from here.
    startRequestedAtMs = workflowInfo().runStartTime.getTime();
    const started = await starter.startAgentSession(startRequest);
    status.attempts = started.attempts;
    capacityWaitMs = started.capacityWaitMs;
    sessionCapacityWait.record(capacityWaitMs, { provider: input.provider, outcome: started.outcome });
    if (started.outcome === 'capacity') {
      return await finish('capacity', `no capacity within ${input.startTimeoutSec} s: ${started.lastError}`);
    }

    const schedule = sessionSchedule(started.startedAtMs, started.maxDurationSec, started.goodbyeLeadSec, input.graceSec);
    status.sessionId = started.sessionId;
    // Lets another workflow's reconciliation tell this session from one its lost request created.
    if (started.claimable && changed('session-id-search-attribute')) {
      upsertSearchAttributes([{ key: SESSION_ID_SEARCH_ATTRIBUTE, value: started.sessionId }]);
    }
    status.startedAt = new Date(started.startedAtMs).toISOString();
    status.deadline = new Date(schedule.stopAtMs).toISOString();
    status.goodbyeAt = new Date(schedule.goodbyeAtMs).toISOString();
    status.state = 'live';
    endedBy ??= endedEarly.get(started.sessionId) ?? null;
    // Ad-hoc sessions tell the agent's capacity governor (if campaigns run on the agent) after they
    // started, so campaigns make room without delaying this start. Campaign calls are counted by their campaign.
    // Only when a governor runs: signalling one that does not exist costs a failed signal and a workflow task per session.
    if (!input.reportTo && started.governed !== false && changed('adhoc-capacity-report')) tellGovernor(true, schedule.stopAtMs);
    startInfo = {
      workflowId,
      provider: input.provider,
      sessionId: started.sessionId,
      dailyRoom: started.dailyRoom,
      wsUrl: started.wsUrl,
      dailyTokenSealed: started.dailyTokenSealed,
      tokenSealed: started.tokenSealed,
      iceConfigSealed: started.iceConfigSealed,
      recovered: started.recovered,
      startedAt: status.startedAt,
      deadline: status.deadline,
    };

    const sayGoodbye = async (reason: 'deadline' | 'stop-requested') => {
      status.state = 'saying-goodbye';
      const stopAt = new Date(Math.max(Date.now() + input.graceSec * 1000, reason === 'deadline' ? schedule.stopAtMs : 0)).toISOString();
      try {
        await goodbyeActivity.sendGoodbye({ ...target, sessionId: started.sessionId, sessionKey: input.sessionKey, goodbye, stopAt, reason });
      } catch (err) {
        // Best effort: the stop below happens either way, before the platform's cap.
        log.warn('Goodbye not delivered', { sessionId: started.sessionId, error: (err as Error).message });
      }
      await condition(() => endedBy !== null || stopMode === 'now', Math.max(0, Date.parse(stopAt) - Date.now()));
    };

    const pollMs = input.statusPollSec * 1000;
    let nextPollAt = Date.now() + pollMs;
    let endReason: EndReason;
    for (;;) {
      if (endedBy !== null) {
        endReason = 'ended';
        break;
      }
      if (stopMode === 'now') {
        endReason = 'stopped';
        break;
      }
      if (stopMode === 'graceful') {
        if (goodbye.kind !== 'none') await sayGoodbye('stop-requested');
        endReason = 'stopped';
        break;
      }
      if (Date.now() >= schedule.goodbyeAtMs) {
        if (goodbye.kind === 'none') {
          await condition(() => endedBy !== null || stopMode !== null, Math.max(0, schedule.stopAtMs - Date.now()));
          endReason = endedBy !== null ? 'ended' : 'max-duration';
        } else {
          await sayGoodbye('deadline');
          endReason = 'goodbye';
        }
        break;
      }
      const wakeAt = Math.min(nextPollAt, schedule.goodbyeAtMs);
      const signalled = await condition(() => endedBy !== null || stopMode !== null, Math.max(0, wakeAt - Date.now()));
      if (!signalled && Date.now() >= nextPollAt) {
        try {
          const state = await quick.getSessionState({ ...target, sessionId: started.sessionId });
          if (state.ended) endedBy ??= 'poll';
        } catch (err) {
          log.warn('Session status poll failed; will poll again', { sessionId: started.sessionId, error: (err as Error).message });
        }
        nextPollAt = Date.now() + pollMs;
      }
    }
    // The platform itself said the session is over (its signed webhook, or its status API): there is
    // nothing left to stop, and a confirming stop would cost a request and an activity per call.
    if (endReason === 'ended' && PLATFORM_END_SOURCES.has(endedBy!) && changed('no-stop-after-platform-end')) {
      return await finish(endReason);
    }
    // Otherwise stop in every case: after an `ended` signal it is a no-op (404) on the platform, and it
    // guarantees that a caller's "ended" never leaves a billable session running.
    if (endReason === 'ended' && changed('report-while-stopping')) {
      // The platform (or a caller) says the session is over: the campaign gets its slot back in the same
      // workflow task that sends the confirming stop, not one activity round trip later.
      const [result] = await Promise.all([finish(endReason), stopSession()]);
      return result;
    }
    await stopSession();
    return await finish(endReason);
  } catch (err) {
    if (isCancellation(err)) {
      await stopSession();
      return await CancellationScope.nonCancellable(() => finish('cancelled'));
    }
    const cause = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : err instanceof ApplicationFailure ? err : undefined;
    const message = cause?.message ?? (err as Error).message;
    if (changed('failed-start-tolerates-stop-failure')) {
      // A start the platform refused outright (unknown agent, bad key) left nothing to stop; the
      // reconciling stop may fail the same way, and must not hide the first failure from the caller.
      await stopSession().catch((stopErr: unknown) => log.warn('Stop after a failed start failed', { error: (stopErr as Error).message }));
    } else {
      await stopSession();
    }
    startFailure ??= ApplicationFailure.nonRetryable(message, cause?.type ?? 'SessionStartFailed');
    const result = await finish('failed', message, cause?.type ?? 'SessionFailed');
    throw ApplicationFailure.create({ message: `Session ${input.sessionKey} failed: ${message}`, type: 'SessionFailed', nonRetryable: true, details: [result] });
  }
}
