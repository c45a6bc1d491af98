import { z } from 'zod';
import { AgentNameSchema } from './deploy-schema';

export const GoodbyeSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('session-proxy'), path: z.string().regex(/^\/[\w./-]*$/, 'must be a path like /goodbye').default('/goodbye') }),
  z.strictObject({ kind: z.literal('webhook'), url: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }) }),
  z.strictObject({ kind: z.literal('none') }),
]);

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
    /** Workflow id to signal (`callReport`) with this session's result when it ends, e.g. a campaign. */
    reportTo: z.string().min(1).optional(),
    /** Echoed in the report so the receiver knows which contact and attempt this was. */
    reportTag: z.object({ contactId: z.string(), attempt: z.number().int() }).optional(),
    /** Set by a campaign whose own validation already checked these options and applied their defaults;
     *  honoured only when the session's parent workflow is a campaign (see agentSession). */
    normalized: z.literal(true).optional(),
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


