import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import { nextCallableAt } from '../domain/calling-window';
import {
  callSessionKey,
  campaignWorkflowId,
  governorWorkflowId,
  type CallReport,
  type CampaignInput,
  type CampaignOptions,
  type CampaignProgress,
  type CampaignResult,
  type Contact,
  type ContactOutcome,
  type ContactsCursor,
  type OutcomeStatus,
} from '../domain/campaign';
import { sessionWorkflowId, type AgentSessionInput } from '../domain/session';
import type { agentSession } from './agent-session';
import type { capacityGovernor } from './capacity-governor';
import {
  callEndingSignal,
  callReportSignal,
  campaignCancelSignal,
  campaignPauseSignal,
  campaignProgressQuery,
  campaignResumeSignal,
  capacityDemandSignal,
  capacityGrantSignal,
  sessionStopNowSignal,
} from './messages';
import { campaignContacts } from './metrics';

type SourcedContact = Contact & { line?: number };

/** A contact held back until `notBefore`: a retry's backoff, or its calling window. */
interface Deferred {
  contact: SourcedContact;
  attempt: number;
  notBefore: number;
  kind: 'retry' | 'window';
}

/** Carried across continue-as-new: everything needed to go on without re-dialling anyone. */
interface CampaignState {
  concurrency: number;
  capacity: number | null;
  total: number;
  inlineCursor: number;
  fileCursor: ContactsCursor | null;
  sourceDone: boolean;
  /** Read from the file, not tried yet. */
  buffer: SourcedContact[];
  deferred: Deferred[];
  /** Live calls by session key. */
  live: Record<string, { contactId: string; attempt: number; ending?: boolean }>;
  /** Contacts with a call live or deferred, and their outcome so far. */
  open: Record<string, { contact: SourcedContact; outcome: ContactOutcome }>;
  counts: Record<OutcomeStatus, number>;
  /** Final outcomes of an inline list (at most 1,000), returned in the result. */
  outcomes: ContactOutcome[];
  unflushed: ContactOutcome[];
  batchSeq: number;
  sinkErrors: number;
  recentFinals: number[];
  paused: boolean;
  cancelling: 'graceful' | 'immediate' | null;
  grant: number | null;
  governedSince: number | null;
  startWindow: { start: number; count: number };
}

type CampaignRunInput = CampaignInput & { resume?: CampaignState };

const FLUSH_EVERY = 100;
const FLUSH_AFTER_MS = 10_000;
const GRANT_WAIT_MS = 30_000;
const KEEPALIVE_MS = 60_000;

const CONTINUE_AS_NEW_AFTER_BYTES = 16 * 1024 * 1024;
/** Well under the server's 51,200-event limit: how far a run that only awaits its live calls' reports may grow. */
const HISTORY_EVENTS_CEILING = 40_000;
const validate = proxyLocalActivities<Activities>({ startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 3 } });
const dialCheck = proxyLocalActivities<Activities>({ startToCloseTimeout: '35 seconds', retry: { maximumAttempts: 2 } });
const files = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});
/** A results webhook that is down is retried for an hour before its batch is given up (and counted). */
const sink = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '10 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

function unwrap(err: unknown): unknown {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : err;
}

/**
 * Dials a list of contacts through `agentSession` children, at most `concurrency` at once (and within
 * the agent's shared capacity). Each attempt's workflow id and sessionKey derive from (campaignId,
 * contactId, attempt), so a crash, a re-submitted campaign or a duplicate start never dials the same
 * attempt twice. Calls report back by signal to the campaign's workflow id, which survives
 * continue-as-new; a slot frees the moment its call reports.
 */
export async function campaign(rawInput: CampaignRunInput): Promise<CampaignResult> {
  const { resume, ...raw } = rawInput;
  const state: CampaignState = resume ?? {
    concurrency: 0,
    capacity: null,
    total: Array.isArray(raw.contacts) ? raw.contacts.length : 0,
    inlineCursor: 0,
    fileCursor: null,
    sourceDone: false,
    buffer: [],
    deferred: [],
    live: {},
    open: {},
    counts: { completed: 0, failed: 0, skipped: 0, cancelled: 0 },
    outcomes: [],
    unflushed: [],
    batchSeq: 0,
    sinkErrors: 0,
    recentFinals: [],
    paused: false,
    cancelling: null,
    grant: null,
    governedSince: null,
    startWindow: { start: 0, count: 0 },
  };
  let governed = false;
  const reports: CallReport[] = [];

  const limit = (): number => {
    if (!governed) return state.concurrency;
    if (state.grant !== null) return Math.min(state.concurrency, state.grant);
    // No answer from the governor yet: hold back, but never forever.
    return state.governedSince !== null && Date.now() - state.governedSince > GRANT_WAIT_MS ? state.concurrency : 0;
  };
  /** Calls holding a slot: a call whose end the platform announced no longer does, even before it reports. */
  const liveCount = () => Object.values(state.live).filter((c) => !c.ending).length;
  const finalCount = () => state.counts.completed + state.counts.failed + state.counts.skipped + state.counts.cancelled;
  const progress = (): CampaignProgress => {
    const finals = state.recentFinals;
    const rate = finals.length >= 2 ? (finals.length - 1) / Math.max(1, finals[finals.length - 1]! - finals[0]!) : null;
    const remaining = Math.max(0, state.total - finalCount());
    const waitingForWindow = state.deferred.filter((d) => d.kind === 'window').length;
    return {
      total: state.total,
      pending: Math.max(0, remaining - Object.keys(state.live).length - state.deferred.length),
      waitingForWindow,
      live: liveCount(),
      completed: state.counts.completed,
      failed: state.counts.failed,
      skipped: state.counts.skipped + state.counts.cancelled,
      retriesScheduled: state.deferred.length - waitingForWindow,
      paused: state.paused,
      cancelling: state.cancelling,
      limit: limit(),
      etaSec: rate ? Math.round(remaining / rate / 1000) : null,
    };
  };

  // Registered before the first await: a progress query that arrives while the input is being
  // validated gets an answer instead of QueryNotRegisteredError.
  setHandler(campaignProgressQuery, progress);

  let input: CampaignOptions;
  try {
    input = await validate.validateCampaignInput(raw);
  } catch (err) {
    throw unwrap(err);
  }
  const selfId = workflowInfo().workflowId;
  // A Temporal Schedule appends the scheduled time to the workflow id: each scheduled run is its own
  // campaign ("<campaignId>-<time>"), so its calls get their own attempt keys.
  const base = campaignWorkflowId(input.campaignId);
  if (selfId !== base && !selfId.startsWith(`${base}-`)) {
    throw ApplicationFailure.nonRetryable(`campaign ${input.campaignId} must run as workflow id "${base}"`, 'InvalidInput');
  }
  const runCampaignId = selfId.slice('campaign:'.length);
  const agentKey = input.provider === 'pipecat' ? input.agentName! : input.deploymentId!;

  // Gauges at most once a second: each value crosses from the workflow sandbox to the runtime.
  let publishedAt = -Infinity;
  const publishProgress = (force: boolean) => {
    if (!force && Date.now() - publishedAt < 1000) return;
    publishedAt = Date.now();
    const p = progress();
    const states = { pending: p.pending, waiting_for_window: p.waitingForWindow, live: p.live, completed: p.completed, failed: p.failed, skipped: p.skipped, retries_scheduled: p.retriesScheduled };
    // Labelled with the campaign id, not the scheduled run's: a schedule's runs share one series.
    for (const [state, value] of Object.entries(states)) campaignContacts.set(value, { campaign_id: input.campaignId, state });
  };

  // Every signal bumps `changes`: the loop sleeps until something changed or a timer falls due.
  let changes = 0;
  setHandler(callReportSignal, (report) => {
    reports.push(report);
    changes++;
  });
  setHandler(callEndingSignal, ({ sessionKey }) => {
    const call = state.live[sessionKey];
    if (call && !call.ending) {
      call.ending = true;
      changes++;
    }
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
  setHandler(capacityGrantSignal, ({ limit: granted }) => {
    state.grant = granted;
    changes++;
  });

  if (!resume) {
    // Signals and queries work from here on, also while the agent and files are looked at.
    try {
      state.capacity = input.agentCapacity ?? (await validate.agentCapacity({ provider: input.provider, agentName: input.agentName }));
      if (input.contactsFile || input.doNotCall) {
        const { rows } = await files.prepareCampaignFiles({ contactsFile: input.contactsFile, doNotCallFile: input.doNotCall?.file });
        if (rows !== null) state.total = rows;
      }
    } catch (err) {
      throw unwrap(err);
    }
    state.concurrency = input.concurrency ?? state.capacity ?? 10;
  }

  const newOutcome = (contact: SourcedContact): ContactOutcome => ({
    contactId: contact.contactId,
    status: 'failed',
    attempts: 0,
    sessionIds: [],
    endReasons: [],
    durationSec: 0,
    ...(contact.line !== undefined ? { line: contact.line } : {}),
  });
  const finalize = (outcome: ContactOutcome, status: OutcomeStatus, reason?: string) => {
    outcome.status = status;
    if (reason) outcome.reason = reason;
    delete state.open[outcome.contactId];
    state.counts[status]++;
    state.unflushed.push(outcome);
    if (input.contacts) state.outcomes.push(outcome);
    state.recentFinals.push(Date.now());
    if (state.recentFinals.length > 100) state.recentFinals.shift();
  };

  governed = input.shareCapacity && state.capacity !== null;

  // ---- contacts source: an inline list, or a file read in pages ----
  const nextContact = async (): Promise<SourcedContact | null> => {
    if (input.contacts) {
      if (state.inlineCursor >= input.contacts.length) return null;
      return { ...input.contacts[state.inlineCursor], line: ++state.inlineCursor } as SourcedContact;
    }
    while (state.buffer.length === 0) {
      if (state.sourceDone) return null;
      const page = await files.readContactsPage({ path: input.contactsFile!.path, format: input.contactsFile!.format, cursor: state.fileCursor, limit: input.pageSize });
      state.fileCursor = page.next;
      state.sourceDone = page.next === null;
      state.buffer.push(...page.contacts);
      for (const p of page.problems) {
        log.warn('Contact row skipped', { line: p.line, reason: p.reason });
        finalize({ ...newOutcome({ contactId: p.contactId ?? `line-${p.line}`, line: p.line }) }, 'skipped', `invalid-row: ${p.reason}`);
      }
    }
    return state.buffer.shift()!;
  };
  /** What state keeps of a contact: inline ones by position (the input has them), file ones whole. */
  const stored = (c: SourcedContact): SourcedContact => (input.contacts ? { contactId: c.contactId, line: c.line } : c);
  const full = (c: SourcedContact): SourcedContact => (input.contacts && c.line !== undefined ? { ...input.contacts[c.line - 1]!, line: c.line } : c);
  const sourceExhausted = () => (input.contacts ? state.inlineCursor >= input.contacts.length : state.sourceDone && state.buffer.length === 0);

  // ---- results sink ----
  let lastFlushAt = Date.now();
  const flush = async () => {
    lastFlushAt = Date.now();
    if (state.unflushed.length === 0) return;
    const batch = state.unflushed;
    state.unflushed = [];
    if (!input.results) return;
    const batchId = `${runCampaignId}#${++state.batchSeq}`;
    try {
      await sink.recordOutcomes({ campaignId: runCampaignId, batchId, outcomes: batch, sink: input.results });
    } catch (err) {
      state.sinkErrors++;
      log.error('Results batch could not be written', { batchId, outcomes: batch.length, error: (unwrap(err) as Error).message });
    }
  };

  // ---- the agent's capacity governor ----
  const governorId = governorWorkflowId(input.provider, agentKey);
  const gov: { announced: { want: number; live: number; at: number } | null } = { announced: null };
  const announce = async (want: number) => {
    const live = liveCount();
    const payload = { holder: selfId, want, live, capacity: state.capacity };
    const send = () => getExternalWorkflowHandle(governorId).signal(capacityDemandSignal, payload);
    try {
      await send();
    } catch {
      // No governor yet (or it just retired): start one. It outlives this campaign.
      try {
        await startChild<typeof capacityGovernor>('capacityGovernor', {
          workflowId: governorId,
          args: [{ agent: agentKey }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      await send().catch((err: unknown) => log.warn('Capacity governor unreachable', { error: (err as Error).message }));
    }
    state.governedSince ??= Date.now();
    gov.announced = { want, live, at: Date.now() };
  };
  const maybeAnnounce = async (readyNow: number) => {
    if (!governed) return;
    const want = state.paused || state.cancelling ? 0 : Math.min(state.concurrency, liveCount() + readyNow);
    const live = liveCount();
    const last = gov.announced;
    // Above its share, every call that ends is reported (the governor hands the slot on), down to the share.
    const draining = state.grant !== null && (live > state.grant || (last !== null && last.live > state.grant));
    if (!last || last.want !== want || (draining && last.live !== live) || Date.now() - last.at >= KEEPALIVE_MS) await announce(want);
  };

  // ---- dialling ----
  /** The do-not-call list and consent webhook, right before the dial; a refused contact is finalized here. */
  const allowedToDial = async (contact: SourcedContact, attempt: number, outcome: ContactOutcome): Promise<boolean> => {
    const sessionKey = callSessionKey(runCampaignId, contact.contactId, attempt);
    if (input.doNotCall || input.consentWebhook) {
      const check = await dialCheck.checkBeforeDial({
        campaignId: runCampaignId,
        contactId: contact.contactId,
        phone: contact.phone,
        attempt,
        doNotCallFile: input.doNotCall?.file,
        consent: input.consentWebhook,
      });
      if (!check.allow) {
        delete state.live[sessionKey];
        finalize(outcome, 'skipped', check.reason);
        changes++;
        return false;
      }
    }
    return true;
  };
  const startCall = async (contact: SourcedContact, attempt: number, outcome: ContactOutcome): Promise<void> => {
    const sessionKey = callSessionKey(runCampaignId, contact.contactId, attempt);
    const sessionInput: AgentSessionInput = {
      ...(input.session as Partial<AgentSessionInput>),
      provider: input.provider,
      sessionKey,
      reportTo: selfId,
      reportTag: { contactId: contact.contactId, attempt },
      // This run's validation checked the session options and applied their defaults (runs started by
      // older builds did not): the call need not validate them again in its first workflow task.
      ...(normalizedCalls ? { normalized: true as const } : {}),
      ...(input.provider === 'pipecat'
        ? { agentName: input.agentName, body: { ...contact.data, ...(contact.phone ? { phone: contact.phone } : {}), contactId: contact.contactId } }
        : { deploymentId: input.deploymentId, tag: input.tag, metaData: { ...contact.data, ...(contact.phone ? { phone: contact.phone } : {}), contactId: contact.contactId } }),
    };
    outcome.attempts = attempt;
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
        log.info('Call attempt already exists; not dialling again', { sessionKey });
        delete state.live[sessionKey];
        finalize(outcome, 'skipped', 'already-dialled');
        changes++;
        return;
      }
      throw err;
    }
  };
  const dial = async (contact: SourcedContact, attempt: number, outcome: ContactOutcome): Promise<void> => {
    if (await allowedToDial(contact, attempt, outcome)) await startCall(contact, attempt, outcome);
  };

  const handle = (report: CallReport) => {
    const entry = state.live[report.sessionKey];
    if (!entry) return; // a duplicate or stale report
    delete state.live[report.sessionKey];
    const open = state.open[entry.contactId];
    if (!open) return;
    const outcome = open.outcome;
    const endReason = report.result?.endReason ?? 'failed';
    if (report.result?.sessionId) outcome.sessionIds.push(report.result.sessionId);
    outcome.endReasons.push(endReason);
    outcome.durationSec += report.result?.durationSec ?? 0;
    // A start whose outcome is unknown may have reached the contact: never dial them again automatically.
    const maybeDialled = report.result?.errorType === 'AmbiguousStart';
    const retryable = input.retry.on.includes(endReason);
    if (!maybeDialled && retryable && entry.attempt < input.retry.maxAttempts && state.cancelling === null) {
      const backoff = input.retry.backoffSec[Math.min(entry.attempt - 1, input.retry.backoffSec.length - 1)]!;
      state.deferred.push({ contact: open.contact, attempt: entry.attempt + 1, notBefore: Date.now() + backoff * 1000, kind: 'retry' });
    } else {
      finalize(outcome, endReason === 'cancelled' ? 'cancelled' : retryable ? 'failed' : 'completed', maybeDialled ? 'ambiguous-start' : undefined);
    }
  };

  const callableAt = (contact: SourcedContact, now: number) => (input.callWindow ? nextCallableAt(now, input.callWindow, contact.timeZone) : now);
  /** How many more starts the rate limit allows now, and when the next window opens. */
  const startBudget = (now: number): { budget: number; nextAt: number | null } => {
    if (!input.maxStartsPerSecond) return { budget: Infinity, nextAt: null };
    const windowMs = Math.max(1000, 1000 / input.maxStartsPerSecond);
    const perWindow = Math.max(1, Math.round((input.maxStartsPerSecond * windowMs) / 1000));
    if (now - state.startWindow.start >= windowMs) state.startWindow = { start: now, count: 0 };
    const budget = perWindow - state.startWindow.count;
    return { budget, nextAt: budget > 0 ? null : state.startWindow.start + windowMs };
  };

  let stoppedLive = false;
  // Changes made by this iteration itself (a contact skipped by the do-not-call check frees its slot at once)
  // must wake the next one; earlier runs only looked at changes after dialling and slept until a timer.
  const rearmAfterOwnChanges = patched('campaign-rearm-after-own-changes');
  const dialsBesideLoop = patched('campaign-dials-beside-loop');
  let dialsInFlight = 0;
  let dialFailure: unknown = null;
  /** Waits for the child starts in flight; one that failed fails the campaign here. */
  const dialsSettled = async () => {
    await condition(() => dialsInFlight === 0);
    if (dialFailure !== null) throw dialFailure;
  };
  // A timed wait per loop turn (condition with a timeout) starts a timer and cancels it when a report wakes
  // the loop first: two events per workflow task, about a fifth of a campaign's history. Instead, a timer
  // is started only when no pending one fires at or before the time needed, and none is ever cancelled;
  // one that fires early only makes the loop look again.
  const sharedWakeTimers = patched('campaign-shared-wake-timers');
  const finishWithoutContinuing = patched('campaign-finish-without-continuing');
  const normalizedCalls = patched('campaign-normalized-calls');
  const pendingWakeTimers = new Set<number>();
  const wakeBy = (at: number) => {
    for (const pending of pendingWakeTimers) if (pending <= at) return;
    pendingWakeTimers.add(at);
    void sleep(Math.max(1, at - Date.now())).then(() => {
      pendingWakeTimers.delete(at);
      changes++;
    });
  };
  for (;;) {
    const seenAtTop = changes;
    if (dialFailure !== null) throw dialFailure;
    while (reports.length > 0) handle(reports.shift()!);

    if (state.cancelling) {
      for (const d of state.deferred) if (state.open[d.contact.contactId]) finalize(state.open[d.contact.contactId]!.outcome, 'cancelled');
      state.deferred = [];
      for (let c = await nextContact(); c; c = await nextContact()) {
        finalize(newOutcome(c), 'cancelled');
        if (state.unflushed.length >= FLUSH_EVERY) await flush();
      }
      if (state.cancelling === 'immediate' && !stoppedLive) {
        // A call whose start is still in flight must exist before it can be told to stop.
        await dialsSettled();
        stoppedLive = true;
        await Promise.all(
          Object.keys(state.live).map((key) =>
            getExternalWorkflowHandle(sessionWorkflowId(input.provider, key))
              .signal(sessionStopNowSignal)
              .catch(() => undefined),
          ),
        );
      }
    }

    if (sourceExhausted() && state.deferred.length === 0 && Object.keys(state.live).length === 0) break;

    const now = Date.now();
    let wakeAt = Infinity;
    let readyNow = 0;
    if (!state.paused && !state.cancelling) {
      let free = limit() - liveCount();
      let { budget, nextAt } = startBudget(now);
      const toDial: Array<{ contact: SourcedContact; attempt: number; outcome: ContactOutcome }> = [];
      const take = (contact: SourcedContact, attempt: number, outcome: ContactOutcome) => {
        state.live[callSessionKey(runCampaignId, contact.contactId, attempt)] = { contactId: contact.contactId, attempt };
        state.open[contact.contactId] = { contact: stored(contact), outcome };
        toDial.push({ contact, attempt, outcome });
        free--;
        budget--;
        state.startWindow.count++;
      };

      state.deferred.sort((a, b) => a.notBefore - b.notBefore);
      const stillDeferred: Deferred[] = [];
      for (const d of state.deferred) {
        if (d.notBefore > now) {
          stillDeferred.push(d);
          continue;
        }
        const at = callableAt(d.contact, now);
        if (at > now) stillDeferred.push({ ...d, notBefore: at, kind: 'window' });
        else if (free > 0 && budget > 0) take(full(d.contact), d.attempt, state.open[d.contact.contactId]!.outcome);
        else {
          readyNow++;
          stillDeferred.push(d);
        }
      }
      state.deferred = stillDeferred;

      while (free > 0 && budget > 0 && state.deferred.length < input.maxDeferred) {
        const contact = await nextContact();
        if (!contact) break;
        if (state.open[contact.contactId]) {
          finalize(newOutcome(contact), 'skipped', 'duplicate');
          continue;
        }
        const outcome = newOutcome(contact);
        const at = callableAt(contact, now);
        if (at > now) {
          state.open[contact.contactId] = { contact: stored(contact), outcome };
          state.deferred.push({ contact: stored(contact), attempt: 1, notBefore: at, kind: 'window' });
        } else take(contact, 1, outcome);
      }
      if (!sourceExhausted() && state.deferred.length < input.maxDeferred) readyNow += state.concurrency;
      if (free <= 0 || budget <= 0) readyNow += toDial.length;

      // One workflow task starts them all: the dial check (local activity) and child start run concurrently.
      if (dialsBesideLoop) {
        // The checks are awaited here: a local activity's result must land at the same point of the loop
        // when the history is replayed, or the loop's next commands come out in another order. The child
        // starts are not: a slot that frees while they are being started is refilled in the next task, not
        // after their child-started events came back (events, so replay resolves them at the same point).
        const allowed = await Promise.all(toDial.map((d) => allowedToDial(d.contact, d.attempt, d.outcome)));
        for (const [i, d] of toDial.entries()) {
          if (!allowed[i]) continue;
          dialsInFlight++;
          void startCall(d.contact, d.attempt, d.outcome)
            .catch((err: unknown) => {
              dialFailure ??= err;
            })
            .finally(() => {
              dialsInFlight--;
              changes++;
            });
        }
      } else {
        await Promise.all(toDial.map((d) => dial(d.contact, d.attempt, d.outcome)));
      }

      // Due ones without a free slot wait for a report (a signal), not for a timer.
      for (const d of state.deferred) if (d.notBefore > now) wakeAt = Math.min(wakeAt, d.notBefore);
      if (nextAt !== null && readyNow > 0) wakeAt = Math.min(wakeAt, nextAt);
    }

    await maybeAnnounce(readyNow);
    if (state.unflushed.length >= FLUSH_EVERY) await flush();
    if (state.unflushed.length > 0) wakeAt = Math.min(wakeAt, lastFlushAt + FLUSH_AFTER_MS);
    if (Date.now() - lastFlushAt >= FLUSH_AFTER_MS) await flush();
    if (governed) wakeAt = Math.min(wakeAt, (gov.announced?.at ?? Date.now()) + KEEPALIVE_MS, state.grant === null ? (state.governedSince ?? Date.now()) + GRANT_WAIT_MS : Infinity);

    // Not on the server's suggestion (it comes at ~4K events): under a stream of reports each continue-as-new
    // costs seconds, so we go by our own event threshold, and by size well before the 50 MB limit.
    const info = workflowInfo();
    // With every contact dialled and no retry pending, only the live calls' reports are still to come (about
    // ten events each): finishing in this run is cheaper than a continue-as-new against their stream.
    const onlyReportsLeft = () =>
      finishWithoutContinuing && sourceExhausted() && state.deferred.length === 0 && info.historyLength + Object.keys(state.live).length * 12 < HISTORY_EVENTS_CEILING;
    if ((info.historyLength > input.continueAsNewAfterEvents || info.historySize > CONTINUE_AS_NEW_AFTER_BYTES) && reports.length === 0 && !onlyReportsLeft()) {
      await flush();
      // The new run must not dial a contact whose start this run has not seen through.
      await dialsSettled();
      await condition(allHandlersFinished);
      // Reports that came in while flushing go into the state, not into the void.
      while (reports.length > 0) handle(reports.shift()!);
      await continueAsNew<typeof campaign>({ ...raw, resume: state });
    }

    publishProgress(false);
    const seen = rearmAfterOwnChanges ? seenAtTop : changes;
    if (reports.length === 0) {
      if (sharedWakeTimers) {
        if (wakeAt !== Infinity) wakeBy(wakeAt);
        await condition(() => changes !== seen);
      } else if (wakeAt === Infinity) await condition(() => changes !== seen);
      else await condition(() => changes !== seen, Math.max(1, wakeAt - Date.now()));
    }
  }

  if (governed) await announce(0);
  await flush();
  // A call can report before its child-started event resolved the dial.
  await dialsSettled();
  await condition(allHandlersFinished);
  publishProgress(true);
  // Inline lists: in the order given (line = position in the list).
  const outcomes = [...state.outcomes].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { campaignId: runCampaignId, progress: progress(), outcomes, sinkErrors: state.sinkErrors };
}
