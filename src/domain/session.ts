import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { z } from 'zod';
import type { AgentSessionInputSchema, GoodbyeSchema } from './session-schema';

// No runtime zod here: workflow code imports this module, and every import is instantiated per workflow.
export type Goodbye = z.infer<typeof GoodbyeSchema>;
export type AgentSessionInput = z.input<typeof AgentSessionInputSchema>;
export type AgentSessionOptions = z.output<typeof AgentSessionInputSchema>;

export const DEFAULT_MAX_SESSION_SEC = 7200;

export function sessionWorkflowId(provider: 'pipecat' | 'videosdk', sessionKey: string): string {
  return `agent-session:${provider}:${sessionKey}`;
}

export type EndReason = 'ended' | 'stopped' | 'goodbye' | 'max-duration' | 'failed' | 'capacity' | 'cancelled';
export type SessionState = 'starting' | 'waiting-capacity' | 'live' | 'saying-goodbye' | 'stopping' | 'ended';

export interface SessionStatus {
  state: SessionState;
  sessionId: string | null;
  startedAt: string | null;
  /** When we stop the session ourselves (before the platform's cap). */
  deadline: string | null;
  goodbyeAt: string | null;
  endReason: EndReason | null;
  attempts: number;
}

/**
 * What a caller needs to connect its user. Token fields are sealed (AES-256-GCM) because this object
 * is recorded in workflow history; `openStartInfo` in the client helper unseals them.
 */
export interface SealedStartInfo {
  workflowId: string;
  provider: 'pipecat' | 'videosdk';
  sessionId: string;
  dailyRoom: string | null;
  wsUrl: string | null;
  iceConfigSealed: string | null;
  dailyTokenSealed: string | null;
  tokenSealed: string | null;
  /** True when the session was found by reconciliation after a lost start response (room/token unknown). */
  recovered: boolean;
  startedAt: string;
  deadline: string;
}

export interface StartInfo {
  workflowId: string;
  provider: 'pipecat' | 'videosdk';
  sessionId: string;
  dailyRoom: string | null;
  dailyToken: string | null;
  wsUrl: string | null;
  token: string | null;
  iceConfig: unknown;
  recovered: boolean;
  startedAt: string;
  deadline: string;
}

export interface AgentSessionResult {
  sessionId: string | null;
  startedAt: string | null;
  endedAt: string;
  durationSec: number | null;
  endReason: EndReason;
  attempts: number;
  capacityWaitMs: number;
  error: string | null;
  /** The failure's type when `endReason` is 'failed', e.g. `AmbiguousStart` (a call may have happened). */
  errorType: string | null;
}

/** Path on the Pipecat session proxy where a bot started by us answers `{sessionKey}` (reconciliation). */
export const SESSION_IDENTITY_PATH = '/vao/session';

export interface SessionSchedule {
  /** When we notify the bot. */
  goodbyeAtMs: number;
  /** When we stop the session ourselves: before the platform's cap. */
  stopAtMs: number;
  /** The platform's hard cap. */
  capAtMs: number;
}

/** The one place the timeline of a session is computed, by the start activity and the workflow alike. */
export function sessionSchedule(startedAtMs: number, maxDurationSec: number, goodbyeLeadSec: number, graceSec: number): SessionSchedule {
  const capAtMs = startedAtMs + maxDurationSec * 1000;
  const goodbyeAtMs = capAtMs - goodbyeLeadSec * 1000;
  return { capAtMs, goodbyeAtMs, stopAtMs: Math.min(capAtMs, goodbyeAtMs + graceSec * 1000) };
}

/**
 * The session's length: the caller's `maxDurationSec` if any, never past the platform's cap (Pipecat's
 * default cap is 7200 s when the agent sets none), and a goodbye lead that fits inside it.
 */
export function resolveSessionLength(
  provider: 'pipecat' | 'videosdk',
  platformCapSec: number | null,
  requestedSec: number | undefined,
  goodbyeLeadSec: number,
): { maxDurationSec: number; goodbyeLeadSec: number } {
  const cap = platformCapSec ?? (provider === 'pipecat' ? DEFAULT_MAX_SESSION_SEC : null);
  const maxDurationSec = Math.min(requestedSec ?? cap ?? DEFAULT_MAX_SESSION_SEC, cap ?? Infinity);
  return { maxDurationSec, goodbyeLeadSec: Math.min(goodbyeLeadSec, Math.max(0, maxDurationSec - 1)) };
}

/** The start activity's request for validated options (pure: the workflow and the fast-path activity share it). */
export function buildStartRequest(input: AgentSessionOptions, workflowId: string, nowMs: number) {
  return {
    provider: input.provider,
    agentName: input.agentName,
    deploymentId: input.deploymentId,
    tag: input.tag,
    sessionKey: input.sessionKey,
    workflowId,
    reportTo: input.reportTo,
    pipecat:
      input.provider === 'pipecat'
        ? {
            createDailyRoom: input.createDailyRoom,
            dailyRoomProperties: input.dailyRoomProperties,
            dailyMeetingTokenProperties: input.dailyMeetingTokenProperties,
            enableDefaultIceServers: input.enableDefaultIceServers,
            transport: input.transport,
            body: input.body,
          }
        : undefined,
    env: input.env,
    metaData: input.metaData,
    requestedMaxDurationSec: input.maxDurationSec,
    goodbyeLeadSec: input.goodbyeLeadSec,
    graceSec: input.graceSec,
    announceDeadline: input.announceDeadline,
    giveUpAtMs: nowMs + input.startTimeoutSec * 1000,
  };
}

/**
 * The platform session id an `agentSession` workflow holds, as a search attribute: when a start's answer
 * was lost and the session list shows ended sessions that can no longer say who started them, the
 * ones another workflow already holds are not ours. Registered by the project's dev server and by
 * the worker at start-up (see docs/sessions.md).
 */
export const SESSION_ID_SEARCH_ATTRIBUTE_NAME = 'VaoSessionId';
export const SESSION_ID_SEARCH_ATTRIBUTE = defineSearchAttributeKey(SESSION_ID_SEARCH_ATTRIBUTE_NAME, SearchAttributeType.KEYWORD);
