import { z } from 'zod';
import { AgentNameSchema } from './deploy';

export const GoodbyeSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('session-proxy'), path: z.string().regex(/^\/[\w./-]*$/, 'must be a path like /goodbye').default('/goodbye') }),
  z.strictObject({ kind: z.literal('webhook'), url: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }) }),
  z.strictObject({ kind: z.literal('none') }),
]);
export type Goodbye = z.infer<typeof GoodbyeSchema>;

const JsonObject = z.record(z.string(), z.unknown());

export const AgentSessionInputSchema = z
  .strictObject({
    provider: z.enum(['pipecat', 'videosdk']).default('pipecat'),
    /** Pipecat Cloud agent. */
    agentName: AgentNameSchema.optional(),
    /** VideoSDK deployment and tag. */
    deploymentId: z.string().min(1).optional(),
    tag: z.string().min(1).optional(),
    /** The caller's idempotency key: one key, at most one session. */
    sessionKey: z
      .string({ message: 'is required' })
      .min(1, 'is required')
      .max(200, 'must be at most 200 characters')
      .regex(/^[A-Za-z0-9_.:@-]+$/, 'may contain letters, digits and _ . : @ - only'),
    // Pipecat start fields
    createDailyRoom: z.boolean().optional(),
    dailyRoomProperties: JsonObject.optional(),
    dailyMeetingTokenProperties: JsonObject.optional(),
    enableDefaultIceServers: z.boolean().optional(),
    transport: z.enum(['daily', 'webrtc', 'websocket']).optional(),
    body: JsonObject.optional(),
    // VideoSDK start fields
    env: z.record(z.string(), z.string()).optional(),
    metaData: JsonObject.optional(),
    // Ours
    maxDurationSec: z.number().int().min(5, 'must be >= 5').max(14400, 'must be <= 14400').optional(),
    goodbyeLeadSec: z.number().int().min(0).max(3600).default(60),
    goodbye: GoodbyeSchema.optional(),
    graceSec: z.number().min(0).max(600).default(15),
    startTimeoutSec: z.number().min(1).max(86_400).default(600),
    statusPollSec: z.number().min(0.2).max(3600).default(15),
    /** Put `sessionDeadline` and `goodbyeAt` into the start body so the bot can plan (default true). */
    announceDeadline: z.boolean().default(true),
  })
  .superRefine((v, ctx) => {
    if (v.provider === 'pipecat') {
      if (!v.agentName) ctx.addIssue({ code: 'custom', path: ['agentName'], message: 'is required for provider pipecat' });
      for (const f of ['deploymentId', 'tag', 'env', 'metaData'] as const) {
        if (v[f] !== undefined) ctx.addIssue({ code: 'custom', path: [f], message: 'is a VideoSDK field; provider is pipecat' });
      }
    } else {
      if (!v.deploymentId) ctx.addIssue({ code: 'custom', path: ['deploymentId'], message: 'is required for provider videosdk' });
      for (const f of ['createDailyRoom', 'dailyRoomProperties', 'dailyMeetingTokenProperties', 'enableDefaultIceServers', 'transport', 'body'] as const) {
        if (v[f] !== undefined) ctx.addIssue({ code: 'custom', path: [f], message: 'is a Pipecat field; provider is videosdk' });
      }
      if (v.goodbye?.kind === 'session-proxy') {
        ctx.addIssue({ code: 'custom', path: ['goodbye', 'kind'], message: 'session-proxy exists on Pipecat only; use webhook or none' });
      }
    }
    if (v.goodbyeLeadSec > 0 && v.graceSec >= v.goodbyeLeadSec) {
      ctx.addIssue({ code: 'custom', path: ['graceSec'], message: 'must be less than goodbyeLeadSec, so the session is stopped before the platform cap' });
    }
    if (v.maxDurationSec !== undefined && v.goodbyeLeadSec >= v.maxDurationSec) {
      ctx.addIssue({ code: 'custom', path: ['goodbyeLeadSec'], message: 'must be less than maxDurationSec' });
    }
  });

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
