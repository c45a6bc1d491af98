import { activityInfo, heartbeat, log, metricMeter, sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { resolveSessionLength, SESSION_IDENTITY_PATH, sessionSchedule, type Goodbye } from '../domain/session';
import { ProviderError } from '../providers/http';
import type { PipecatClient } from '../providers/pipecat/client';
import type { StartSessionRequest } from '../providers/pipecat/schemas';
import type { VideoSdkClient } from '../providers/videosdk/client';
import type { Sealer } from '../security/sealing';
import { withFailureMapping } from './failures';
import { postSignedJson } from './webhook';

/** Start requests sent to a platform, by outcome; 429s show as `rate-limited`. Tagged with the activity's namespace and task queue. */
function countStartRequest(provider: string, result: string): void {
  metricMeter.createCounter('vao_session_start_requests', 'requests', 'Session start requests sent to the platform, by result').add(1, { provider, result });
}

/** Which of these platform session ids a session workflow already holds (VaoSessionId search attribute). */
export type SessionClaims = (sessionIds: string[]) => Promise<Set<string>>;

export interface SessionActivityDeps {
  pipecat: PipecatClient;
  videosdk?: VideoSdkClient;
  sealer: Sealer;
  /** HMAC secret for goodbye webhooks; unsigned when absent. */
  webhookSigningSecret?: string;
  /** Our receiver's VideoSDK endpoint (`…/webhooks/videosdk`), if one runs; `?wf=<workflowId>` is appended. */
  videosdkWebhookUrl?: string;
  /** Capacity backoff: first delay and cap (ms); jitter is "full" (uniform 0..delay). */
  capacityBackoff?: { initialMs: number; maxMs: number };
  timeoutMs?: number;
  /** Looks up which session ids other session workflows hold; absent: ended candidates stay unknown. */
  sessionClaims?: SessionClaims;
  /** Whether a capacity governor runs for this agent (campaigns share it); absent: assume it does. */
  governorRunning?: (provider: 'pipecat' | 'videosdk', agent: string) => Promise<boolean>;
}

export interface SessionTarget {
  provider: 'pipecat' | 'videosdk';
  agentName?: string;
  deploymentId?: string;
  tag?: string;
}

export interface StartSessionActivityInput extends SessionTarget {
  sessionKey: string;
  workflowId: string;
  /** The campaign this call belongs to, if any: its slot hint rides on the session's webhook URL. */
  reportTo?: string;
  pipecat?: StartSessionRequest;
  env?: Record<string, string>;
  metaData?: Record<string, unknown>;
  /** The caller's wish; the agent's cap is looked up here and wins. */
  requestedMaxDurationSec?: number;
  goodbyeLeadSec: number;
  graceSec: number;
  announceDeadline: boolean;
  /** Epoch ms after which capacity waiting gives up. */
  giveUpAtMs: number;
}

export type StartSessionActivityResult =
  | {
      outcome: 'started';
      sessionId: string;
      /** When the start request that created it was sent; the session's schedule counts from here. */
      startedAtMs: number;
      maxDurationSec: number;
      goodbyeLeadSec: number;
      recovered: boolean;
      dailyRoom: string | null;
      wsUrl: string | null;
      dailyTokenSealed: string | null;
      tokenSealed: string | null;
      iceConfigSealed: string | null;
      attempts: number;
      capacityWaitMs: number;
      /** The worker can record the session id as a search attribute (VaoSessionId is registered). */
      claimable?: boolean;
      /** A capacity governor runs for the agent: an ad-hoc session tells it (undefined in older histories: yes). */
      governed?: boolean;
    }
  | { outcome: 'capacity'; attempts: number; capacityWaitMs: number; lastError: string };

interface StartProgress {
  attempts: number;
  capacityWaitMs: number;
  /** Sends made by earlier attempts: reconcile from the first one. */
  firstSendAtMs: number | null;
}

type Reconciled = { found: { sessionId: string; createdAtMs: number } } | { found: null } | { unknown: string };

export function createSessionActivities(deps: SessionActivityDeps) {
  const backoff = deps.capacityBackoff ?? { initialMs: 1000, maxMs: 30_000 };

  function videosdk(): VideoSdkClient {
    if (!deps.videosdk) throw ApplicationFailure.nonRetryable('VideoSDK is not configured (VIDEOSDK_API_KEY/VIDEOSDK_SECRET)', 'NotConfigured');
    return deps.videosdk;
  }

  /**
   * Did an earlier, unanswered start create our session? Pipecat's session list carries no request data,
   * so each candidate started since our first send is asked through the session proxy which key started
   * it (the bot answers `{sessionKey}` on SESSION_IDENTITY_PATH). VideoSDK lists `metadata`, which
   * carries the key. `unknown` means a candidate could not answer: retrying could start a second session.
   */
  async function reconcile(input: StartSessionActivityInput, sinceMs: number): Promise<Reconciled> {
    const windowStart = sinceMs - 5000; // clock skew between us and the platform
    if (input.provider === 'videosdk') {
      const list = await videosdk().listSessions(1, 100);
      const mine = list.data.find((s) => {
        const meta = s.metadata as Record<string, unknown> | undefined;
        return meta?.vaoSessionKey === input.sessionKey;
      });
      // Found even when it has already ended: the workflow then sees it ended and reports so.
      if (mine) return { found: { sessionId: mine.sessionId, createdAtMs: Date.parse(mine.createdAt ?? '') || sinceMs } };
      return { found: null };
    }
    // Ended sessions count too: a short call may be over by the time a retry looks. Their bot is gone
    // and cannot say who started it, so any of them makes the outcome unknown.
    const recent = await deps.pipecat.listSessions(input.agentName!, { status: 'all', limit: 100 });
    const candidates = recent.sessions.filter((s) => Date.parse(s.createdAt ?? '') >= windowStart);
    const unanswered: string[] = candidates.filter((s) => s.endedAt != null).map((s) => s.sessionId);
    for (const candidate of candidates.filter((s) => s.endedAt == null)) {
      try {
        const answer = (await deps.pipecat.proxyToSession(input.agentName!, candidate.sessionId, 'GET', SESSION_IDENTITY_PATH)) as {
          sessionKey?: unknown;
        } | null;
        if (answer?.sessionKey === input.sessionKey) {
          return { found: { sessionId: candidate.sessionId, createdAtMs: Date.parse(candidate.createdAt ?? '') || sinceMs } };
        }
        if (typeof answer?.sessionKey !== 'string') unanswered.push(candidate.sessionId);
      } catch (err) {
        unanswered.push(candidate.sessionId);
        log.warn('Session identity check failed', { sessionId: candidate.sessionId, error: (err as Error).message });
      }
    }
    // A candidate another session workflow holds (it got the platform's answer for it) is not ours.
    // Claims become visible a moment after their start: look twice before calling the outcome unknown.
    let unclaimed = unanswered;
    for (let look = 0; look < 2 && unclaimed.length > 0 && deps.sessionClaims; look++) {
      if (look > 0) await sleep(1500);
      const claimed = await deps.sessionClaims(unclaimed);
      unclaimed = unclaimed.filter((id) => !claimed.has(id));
    }
    if (unclaimed.length > 0) {
      return { unknown: `${unclaimed.length} session(s) started since the lost request could not say who started them: ${unclaimed.join(', ')}` };
    }
    return { found: null };
  }

  // An agent's cap changes only with a deploy: read it at most once a minute per agent, not once per start.
  const capCache = new Map<string, { capSec: number | null; until: number }>();
  async function platformCapSec(target: SessionTarget): Promise<number | null> {
    if (target.provider === 'videosdk') return null;
    const cached = capCache.get(target.agentName!);
    if (cached && cached.until > Date.now()) return cached.capSec;
    const agent = await deps.pipecat.getAgent(target.agentName!);
    if (!agent) throw ApplicationFailure.nonRetryable(`Pipecat Cloud agent ${target.agentName} not found`, 'AgentNotFound');
    const capSec = agent.deployment?.manifest?.spec?.maxSessionDurationSeconds ?? null;
    capCache.set(target.agentName!, { capSec, until: Date.now() + 60_000 });
    return capSec;
  }

  async function sendStart(input: StartSessionActivityInput, length: { maxDurationSec: number; goodbyeLeadSec: number }, sentAtMs: number) {
    const schedule = sessionSchedule(sentAtMs, length.maxDurationSec, length.goodbyeLeadSec, input.graceSec);
    const plan = input.announceDeadline
      ? { sessionDeadline: new Date(schedule.stopAtMs).toISOString(), goodbyeAt: new Date(schedule.goodbyeAtMs).toISOString() }
      : {};
    if (input.provider === 'videosdk') {
      const session = await videosdk().startSession({
        deploymentId: input.deploymentId,
        tag: input.tag,
        env: input.env,
        metaData: { ...input.metaData, vaoSessionKey: input.sessionKey, vaoWorkflowId: input.workflowId, ...plan },
        ...(deps.videosdkWebhookUrl
          ? {
              webhook: {
                endPoint:
                  `${deps.videosdkWebhookUrl}?wf=${encodeURIComponent(input.workflowId)}` +
                  (input.reportTo ? `&campaign=${encodeURIComponent(input.reportTo)}&call=${encodeURIComponent(input.sessionKey)}` : ''),
                // Only the events that end a session: the receiver acts on nothing else, and each webhook
                // costs the platform a request and the receiver a signature check.
                events: ['ai-deployment-session-stopping', 'ai-deployment-session-stopped', 'ai-deployment-session-failed'],
              },
            }
          : {}),
      });
      return { sessionId: session.sessionId, dailyRoom: null, wsUrl: null, dailyToken: null, token: null, iceConfig: null };
    }
    const req = input.pipecat ?? {};
    const res = await deps.pipecat.startSession(input.agentName!, {
      ...req,
      body: { ...req.body, vaoSessionKey: input.sessionKey, ...plan },
    });
    if (!res.sessionId) {
      throw ApplicationFailure.nonRetryable('Pipecat Cloud accepted the start but returned no sessionId (agent image too old?)', 'NoSessionId');
    }
    return {
      sessionId: res.sessionId,
      dailyRoom: res.dailyRoom ?? null,
      wsUrl: res.wsUrl ?? null,
      dailyToken: res.dailyToken ?? null,
      token: res.token ?? null,
      iceConfig: res.iceConfig ?? null,
    };
  }

  return {
    /**
     * Starts the session, waiting out capacity (429) with full-jitter exponential backoff (or the
     * provider's Retry-After) inside this one heartbeating activity, so a 429 storm costs no history.
     * Never starts two sessions for one key: after any send whose outcome is unknown (lost response,
     * timeout, a retry of this activity), it reconciles before sending again.
     */
    async startAgentSession(input: StartSessionActivityInput): Promise<StartSessionActivityResult> {
      const info = activityInfo();
      const progress: StartProgress = (info.heartbeatDetails as StartProgress | undefined) ?? { attempts: 0, capacityWaitMs: 0, firstSendAtMs: null };
      // Every heartbeat carries the progress, also while a request is in flight, so the heartbeat timeout can
      // be short (a killed worker's start is retried and reconciled within seconds) without cutting off slow answers.
      return withFailureMapping(async () => {
        // A retried activity may have sent a start whose answer nobody saw; the first attempt's schedule
        // time bounds when that could have happened.
        let mustReconcileSince: number | null = info.attempt > 1 ? (progress.firstSendAtMs ?? info.scheduledTimestampMs) : null;
        let delayMs = backoff.initialMs;
        let lastError = '';
        // Only ad-hoc sessions tell the governor; a campaign call is counted by its campaign, so it need not ask.
        // Asked beside the start, not before it: the answer is only needed once the session runs.
        const governed: Promise<boolean> =
          input.reportTo || !deps.governorRunning
            ? Promise.resolve(true)
            : deps.governorRunning(input.provider, input.agentName ?? input.deploymentId ?? '').catch(() => true);
        // The agent's cap, read in the same activity as the start: one task hop less per session.
        const length = resolveSessionLength(input.provider, await platformCapSec(input), input.requestedMaxDurationSec, input.goodbyeLeadSec);
        const startedResult = async (
          fields: Pick<Extract<StartSessionActivityResult, { outcome: 'started' }>, 'sessionId' | 'startedAtMs' | 'recovered' | 'dailyRoom' | 'wsUrl' | 'dailyTokenSealed' | 'tokenSealed' | 'iceConfigSealed'>,
        ): Promise<StartSessionActivityResult> => ({
          outcome: 'started',
          ...fields,
          ...length,
          claimable: deps.sessionClaims !== undefined,
          governed: await governed,
          attempts: progress.attempts,
          capacityWaitMs: progress.capacityWaitMs,
        });

        for (;;) {
          if (mustReconcileSince !== null) {
            const r = await reconcile(input, mustReconcileSince);
            if ('unknown' in r) throw ApplicationFailure.nonRetryable(`start outcome unknown, not retrying: ${r.unknown}`, 'AmbiguousStart');
            if (r.found) {
              log.info('Start reconciled: adopting the session an unanswered request created', { sessionId: r.found.sessionId });
              return await startedResult({
                sessionId: r.found.sessionId,
                startedAtMs: r.found.createdAtMs,
                recovered: true,
                dailyRoom: null,
                wsUrl: null,
                dailyTokenSealed: null,
                tokenSealed: null,
                iceConfigSealed: null,
              });
            }
            mustReconcileSince = null;
          }
          if (progress.attempts > 0 && Date.now() >= input.giveUpAtMs) {
            throw ApplicationFailure.nonRetryable(`no session started before the start timeout: ${lastError}`, 'StartTimeout');
          }

          const sentAtMs = Date.now();
          progress.attempts += 1;
          progress.firstSendAtMs ??= sentAtMs;
          // At once, not at the next tick: a crash right after the send must find firstSendAtMs recorded.
          heartbeat(progress);
          try {
            const started = await sendStart(input, length, sentAtMs);
            countStartRequest(input.provider, 'started');
            return await startedResult({
              sessionId: started.sessionId,
              startedAtMs: sentAtMs,
              recovered: false,
              dailyRoom: started.dailyRoom,
              wsUrl: started.wsUrl,
              dailyTokenSealed: deps.sealer.sealOptional(started.dailyToken),
              tokenSealed: deps.sealer.sealOptional(started.token),
              iceConfigSealed: started.iceConfig ? deps.sealer.seal(JSON.stringify(started.iceConfig)) : null,
            });
          } catch (err) {
            countStartRequest(input.provider, err instanceof ProviderError ? err.kind : 'error');
            if (!(err instanceof ProviderError) || err.kind === 'permanent') throw err;
            lastError = err.message;
            if (err.kind === 'retryable') {
              // The request may have created a session: find out before sending another one.
              if (err.details.maybeApplied) mustReconcileSince = sentAtMs;
              await sleep(Math.min(1000, Math.max(0, input.giveUpAtMs - Date.now())));
              continue;
            }
            // 429: at capacity. Wait with full jitter, or as told, unless that passes the give-up time.
            const jittered = Math.round(Math.random() * delayMs);
            const waitMs = err.details.retryAfterMs ?? Math.max(100, jittered);
            delayMs = Math.min(backoff.maxMs, delayMs * 2);
            if (Date.now() + waitMs >= input.giveUpAtMs) {
              return { outcome: 'capacity', attempts: progress.attempts, capacityWaitMs: progress.capacityWaitMs, lastError };
            }
            progress.capacityWaitMs += waitMs;
            await sleep(waitMs);
          }
        }
      }, { heartbeatDetails: () => progress });
    },

    /**
     * After a cancellation that interrupted a start: stop the session the start may have created.
     * Returns what it found, for the log.
     */
    async stopUnconfirmedStart(input: StartSessionActivityInput & { sinceMs: number }): Promise<{ stopped: string | null; unknown: string | null }> {
      return withFailureMapping(async () => {
        const r = await reconcile(input, input.sinceMs);
        if ('unknown' in r) return { stopped: null, unknown: r.unknown };
        if (!r.found) return { stopped: null, unknown: null };
        if (input.provider === 'videosdk') await videosdk().endSession(r.found.sessionId);
        else await deps.pipecat.stopSession(input.agentName!, r.found.sessionId);
        return { stopped: r.found.sessionId, unknown: null };
      });
    },

    async getSessionState(target: SessionTarget & { sessionId: string }): Promise<{ ended: boolean; endedAt: string | null; completionStatus: string | null }> {
      return withFailureMapping(async () => {
        if (target.provider === 'videosdk') {
          const s = await videosdk().getSession(target.sessionId);
          const ended = !s || s.status === 'completed' || s.status === 'failed' || s.status === 'stopped';
          return { ended, endedAt: s?.end ?? null, completionStatus: s?.status ?? 'unknown' };
        }
        const s = await deps.pipecat.getSession(target.agentName!, target.sessionId);
        return { ended: !s || s.endedAt != null, endedAt: s?.endedAt ?? null, completionStatus: s?.completionStatus ?? null };
      });
    },

    /** Stops the session; "already gone" (404) counts as stopped. */
    async stopAgentSession(target: SessionTarget & { sessionId: string }): Promise<{ stoppedNow: boolean }> {
      return withFailureMapping(async () => {
        if (target.provider === 'videosdk') return { stoppedNow: await videosdk().endSession(target.sessionId) };
        return { stoppedNow: await deps.pipecat.stopSession(target.agentName!, target.sessionId) };
      });
    },

    /** Tells the bot to wrap up: through the Pipecat session proxy, or a signed webhook. */
    async sendGoodbye(
      input: SessionTarget & { sessionId: string; sessionKey: string; goodbye: Goodbye; stopAt: string; reason: 'deadline' | 'stop-requested' },
    ): Promise<{ delivered: boolean }> {
      return withFailureMapping(async () => {
        const payload = { event: 'goodbye', reason: input.reason, sessionId: input.sessionId, sessionKey: input.sessionKey, stopAt: input.stopAt };
        if (input.goodbye.kind === 'none') return { delivered: false };
        if (input.goodbye.kind === 'session-proxy') {
          await deps.pipecat.proxyToSession(input.agentName!, input.sessionId, 'POST', input.goodbye.path, payload);
          return { delivered: true };
        }
        await postSignedJson(input.goodbye.url, payload, { secret: deps.webhookSigningSecret, timeoutMs: deps.timeoutMs ?? 10_000, what: 'GoodbyeWebhook' });
        return { delivered: true };
      });
    },
  };
}

export type SessionActivities = ReturnType<typeof createSessionActivities>;
