import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  proxyLocalActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import {
  callSessionKey,
  campaignWorkflowId,
  type CallReport,
  type CampaignInput,
  type CampaignOptions,
  type CampaignProgress,
  type CampaignResult,
  type ContactOutcome,
} from '../domain/campaign';
import { sessionWorkflowId, type AgentSessionInput } from '../domain/session';
import type { agentSession } from './agent-session';
import {
  callReportSignal,
  campaignCancelSignal,
  campaignPauseSignal,
  campaignProgressQuery,
  campaignResumeSignal,
  sessionStopNowSignal,
} from './messages';

/** Carried across continue-as-new: everything needed to go on without re-dialling anyone. */
interface CampaignState {
  /** Next contact index never tried. */
  cursor: number;
  /** Retries waiting for their time: contact index, next attempt, not before (epoch ms). */
  retries: Array<{ index: number; attempt: number; notBefore: number }>;
  /** Live calls by session key. */
  live: Record<string, { index: number; attempt: number }>;
  outcomes: Record<string, ContactOutcome>;
  paused: boolean;
  cancelling: 'graceful' | 'immediate' | null;
}

type CampaignRunInput = CampaignInput & { resume?: CampaignState };

/**
 * Dials a list of contacts through `agentSession` children, at most `concurrency` at once. Each attempt's
 * workflow id and sessionKey derive from (campaignId, contactId, attempt), so a crash, a re-submitted
 * campaign or a duplicate start never dials the same attempt twice. Calls report back by signal to the
 * campaign's workflow id, which survives continue-as-new; a slot frees the moment its call reports.
 */
export async function campaign(rawInput: CampaignRunInput): Promise<CampaignResult> {
  const { resume, ...raw } = rawInput;
  let input: CampaignOptions;
  try {
    input = await proxyLocalActivities<Activities>({ startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 3 } }).validateCampaignInput(raw);
  } catch (err) {
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) throw err.cause;
    throw err;
  }
  const selfId = workflowInfo().workflowId;
  // A Temporal Schedule appends the scheduled time to the workflow id: each scheduled run is its own
  // campaign ("<campaignId>-<time>"), so its calls get their own attempt keys.
  const base = campaignWorkflowId(input.campaignId);
  if (selfId !== base && !selfId.startsWith(`${base}-`)) {
    throw ApplicationFailure.nonRetryable(`campaign ${input.campaignId} must run as workflow id "${base}"`, 'InvalidInput');
  }
  const runCampaignId = selfId.slice('campaign:'.length);

  const state: CampaignState = resume ?? { cursor: 0, retries: [], live: {}, outcomes: {}, paused: false, cancelling: null };
  const reports: CallReport[] = [];
  const total = input.contacts.length;

  const progress = (): CampaignProgress => {
    const outcomes = Object.values(state.outcomes);
    return {
      total,
      pending: total - state.cursor + state.retries.length,
      live: Object.keys(state.live).length,
      completed: outcomes.filter((o) => o.status === 'completed').length,
      failed: outcomes.filter((o) => o.status === 'failed').length,
      skipped: outcomes.filter((o) => o.status === 'skipped' || o.status === 'cancelled').length,
      retriesScheduled: state.retries.length,
      paused: state.paused,
      cancelling: state.cancelling,
    };
  };
  // Every signal bumps `changes`: the loop sleeps until something changed or a retry falls due.
  let changes = 0;
  setHandler(campaignProgressQuery, progress);
  setHandler(callReportSignal, (report) => {
    reports.push(report);
    changes++;
  });
  setHandler(campaignPauseSignal, () => {
    state.paused = true;
    changes++;
  });
  setHandler(campaignResumeSignal, () => {
    state.paused = false;
    changes++;
  });
  setHandler(campaignCancelSignal, (req) => {
    state.cancelling = req?.mode === 'immediate' ? 'immediate' : (state.cancelling ?? 'graceful');
    changes++;
  });

  const outcomeOf = (index: number): ContactOutcome => {
    const contactId = input.contacts[index]!.contactId;
    return (state.outcomes[contactId] ??= { contactId, status: 'failed', attempts: 0, sessionIds: [], endReasons: [], durationSec: 0 });
  };

  const dial = async (index: number, attempt: number): Promise<void> => {
    const contact = input.contacts[index]!;
    const sessionKey = callSessionKey(runCampaignId, contact.contactId, attempt);
    const sessionInput: AgentSessionInput = {
      ...(input.session as Partial<AgentSessionInput>),
      provider: input.provider,
      sessionKey,
      reportTo: selfId,
      reportTag: { contactId: contact.contactId, attempt },
      ...(input.provider === 'pipecat'
        ? { agentName: input.agentName, body: { ...contact.data, ...(contact.phone ? { phone: contact.phone } : {}), contactId: contact.contactId } }
        : { deploymentId: input.deploymentId, tag: input.tag, metaData: { ...contact.data, contactId: contact.contactId } }),
    };
    state.live[sessionKey] = { index, attempt };
    outcomeOf(index).attempts = attempt;
    try {
      await startChild<typeof agentSession>('agentSession', {
        workflowId: sessionWorkflowId(input.provider, sessionKey),
        args: [sessionInput],
        // Calls outlive a continue-as-new of the campaign; they report back by workflow id.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        // This attempt was already dialled (a re-submitted campaign, or a reset): never dial it again.
        // If it is still running it reports to us; if it has ended, count the contact as skipped.
        log.info('Call attempt already exists; not dialling again', { sessionKey });
        delete state.live[sessionKey];
        const outcome = outcomeOf(index);
        outcome.status = 'skipped';
        return;
      }
      throw err;
    }
  };

  const handle = (report: CallReport) => {
    const entry = state.live[report.sessionKey];
    if (!entry) return; // a duplicate or stale report
    delete state.live[report.sessionKey];
    const outcome = outcomeOf(entry.index);
    const endReason = report.result?.endReason ?? 'failed';
    if (report.result?.sessionId) outcome.sessionIds.push(report.result.sessionId);
    outcome.endReasons.push(endReason);
    outcome.durationSec += report.result?.durationSec ?? 0;
    // A start whose outcome is unknown may have reached the contact: never dial them again automatically.
    const maybeDialled = report.result?.errorType === 'AmbiguousStart';
    const retry = !maybeDialled && input.retry.on.includes(endReason) && entry.attempt < input.retry.maxAttempts && state.cancelling === null;
    if (retry) {
      const backoff = input.retry.backoffSec[Math.min(entry.attempt - 1, input.retry.backoffSec.length - 1)]!;
      state.retries.push({ index: entry.index, attempt: entry.attempt + 1, notBefore: Date.now() + backoff * 1000 });
      outcome.status = 'failed';
    } else {
      outcome.status = endReason === 'cancelled' ? 'cancelled' : input.retry.on.includes(endReason) ? 'failed' : 'completed';
    }
  };

  let stoppedLive = false;
  for (;;) {
    while (reports.length > 0) handle(reports.shift()!);

    if (state.cancelling) {
      for (let i = state.cursor; i < total; i++) outcomeOf(i).status = 'cancelled';
      state.cursor = total;
      for (const r of state.retries) outcomeOf(r.index).status = 'cancelled';
      state.retries = [];
      if (state.cancelling === 'immediate' && !stoppedLive) {
        stoppedLive = true;
        for (const key of Object.keys(state.live)) {
          await getExternalWorkflowHandle(sessionWorkflowId(input.provider, key))
            .signal(sessionStopNowSignal)
            .catch(() => undefined);
        }
      }
    }

    const liveCount = Object.keys(state.live).length;
    if (state.cursor >= total && state.retries.length === 0 && liveCount === 0) break;

    if (!state.paused && !state.cancelling) {
      const now = Date.now();
      let free = input.concurrency - liveCount;
      state.retries.sort((a, b) => a.notBefore - b.notBefore);
      while (free > 0 && state.retries.length > 0 && state.retries[0]!.notBefore <= now) {
        const r = state.retries.shift()!;
        await dial(r.index, r.attempt);
        free--;
      }
      while (free > 0 && state.cursor < total) {
        await dial(state.cursor++, 1);
        free--;
      }
    }

    if (workflowInfo().historyLength > input.continueAsNewAfterEvents && reports.length === 0) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof campaign>({ ...raw, resume: state });
    }

    const seen = changes;
    const nextRetry = state.retries.length > 0 ? Math.min(...state.retries.map((r) => r.notBefore)) : null;
    const canDial = !state.paused && !state.cancelling && Object.keys(state.live).length < input.concurrency;
    if (canDial && nextRetry !== null) await condition(() => changes !== seen, Math.max(1, nextRetry - Date.now()));
    else await condition(() => changes !== seen);
  }

  await condition(allHandlersFinished);
  return { campaignId: runCampaignId, progress: progress(), outcomes: input.contacts.map((_c, i) => outcomeOf(i)) };
}
