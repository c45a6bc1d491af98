import { z } from 'zod';
import { isValidTimeZone, WEEKDAYS } from './calling-window';
import { AgentNameSchema } from './deploy-schema';
import { AgentSessionInputSchema } from './session-schema';

const IdSchema = z
  .string({ message: 'is required' })
  .min(1, 'is required')
  .max(100, 'must be at most 100 characters')
  .regex(/^[A-Za-z0-9_@:-]+$/, 'may contain letters, digits and _ @ : - only');

export const TimeZoneSchema = z.string().refine((tz) => isValidTimeZone(tz), { message: 'must be an IANA time zone such as Europe/Paris' });

export const ContactSchema = z.strictObject({
  contactId: IdSchema,
  /** Goes into the session body (Pipecat) or metaData (VideoSDK). */
  data: z.record(z.string(), z.unknown()).optional(),
  phone: z.string().min(3).max(32).optional(),
  timeZone: TimeZoneSchema.optional(),
});

const END_REASONS = ['ended', 'stopped', 'goodbye', 'max-duration', 'failed', 'capacity', 'cancelled'] as const;
const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)');
const minutes = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3));

export const CallWindowSchema = z
  .strictObject({
    from: ClockTime,
    to: ClockTime,
    days: z.array(z.enum(WEEKDAYS)).min(1, 'must list at least one day').default([...WEEKDAYS]),
    /** For contacts without a time zone of their own. */
    timeZone: TimeZoneSchema.default('UTC'),
  })
  .refine((w) => minutes(w.to) > minutes(w.from), { message: 'to must be later than from (windows do not cross midnight)', path: ['to'] })
  .transform((w) => ({ ...w, days: w.days.map((d) => WEEKDAYS.indexOf(d) + 1) }));

/** The session options as one of the campaign's calls will get them: its agent, and a stand-in key. */
function probeSessionOptions(v: { provider: 'pipecat' | 'videosdk'; agentName?: string; deploymentId?: string; tag?: string; session: Record<string, unknown> }) {
  return AgentSessionInputSchema.safeParse({
    ...v.session,
    provider: v.provider,
    ...(v.provider === 'pipecat' ? { agentName: v.agentName } : { deploymentId: v.deploymentId, tag: v.tag }),
    sessionKey: 'campaign-probe',
  });
}

export const CampaignInputSchema = z
  .strictObject({
    campaignId: IdSchema,
    provider: z.enum(['pipecat', 'videosdk']).default('pipecat'),
    agentName: AgentNameSchema.optional(),
    deploymentId: z.string().min(1).optional(),
    tag: z.string().min(1).optional(),
    /** agentSession options applied to every call (no sessionKey, agent or body: the campaign sets those). */
    session: z.record(z.string(), z.unknown()).default({}),
    /** Small lists inline; anything bigger from a file the workers can read, in pages. */
    contacts: z.array(ContactSchema).min(1, 'must list at least one contact').max(1000, 'inline lists hold at most 1000 contacts; use contactsFile').optional(),
    contactsFile: z
      .strictObject({
        path: z.string().min(1, 'is required'),
        format: z.enum(['csv', 'jsonl']).optional(),
      })
      .optional(),
    pageSize: z.number().int().min(10).max(5000).default(500),
    /** Live calls at most; default: the agent's maxAgents, else 10. */
    concurrency: z.number().int().min(1).max(500).optional(),
    maxStartsPerSecond: z.number().positive().max(1000).optional(),
    callWindow: CallWindowSchema.optional(),
    retry: z
      .strictObject({
        maxAttempts: z.number().int().min(1).max(10).default(3),
        backoffSec: z.array(z.number().min(0)).min(1).default([60, 300, 900]),
        on: z.array(z.enum(END_REASONS)).default(['failed', 'capacity']),
      })
      .default({ maxAttempts: 3, backoffSec: [60, 300, 900], on: ['failed', 'capacity'] }),
    /** Phone numbers or contact ids, one per line (CSV: first column); checked right before each dial. */
    doNotCall: z.strictObject({ file: z.string().min(1, 'is required') }).optional(),
    /** Asked right before each dial; anything but a 2xx `{"allow": true}` in time means no call. */
    consentWebhook: z
      .strictObject({
        url: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }),
        timeoutMs: z.number().int().min(100).max(30_000).default(3000),
      })
      .optional(),
    results: z
      .strictObject({
        file: z.string().min(1).optional(),
        format: z.enum(['jsonl', 'csv']).optional(),
        webhookUrl: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
      })
      .optional(),
    /** Share the agent's capacity with other campaigns and ad-hoc sessions through its governor. */
    shareCapacity: z.boolean().default(true),
    /** The agent's live-session capacity when it cannot be read from the platform (VideoSDK). */
    agentCapacity: z.number().int().min(1).max(10_000).optional(),
    /** Contacts held back (waiting for their window or a retry) at most; past it, reading pauses. */
    maxDeferred: z.number().int().min(10).max(10_000).default(1000),
    /**
     * Continue as new after this many history events (below Temporal's 10,240 warning). Each continue-as-new
     * under a steady stream of call reports stalls dialling for seconds (see docs/campaigns.md), so fewer is better.
     */
    continueAsNewAfterEvents: z.number().int().min(50).max(10_000).default(9000),
  })
  .superRefine((v, ctx) => {
    if (v.provider === 'pipecat' && !v.agentName) ctx.addIssue({ code: 'custom', path: ['agentName'], message: 'is required for provider pipecat' });
    if (v.provider === 'videosdk' && !v.deploymentId) ctx.addIssue({ code: 'custom', path: ['deploymentId'], message: 'is required for provider videosdk' });
    if (!v.contacts === !v.contactsFile) ctx.addIssue({ code: 'custom', path: ['contacts'], message: 'give exactly one of contacts or contactsFile' });
    const seen = new Set<string>();
    v.contacts?.forEach((c, i) => {
      if (seen.has(c.contactId)) ctx.addIssue({ code: 'custom', path: ['contacts', i, 'contactId'], message: `duplicate contactId ${c.contactId}` });
      seen.add(c.contactId);
    });
    const setByCampaign = ['sessionKey', 'agentName', 'deploymentId', 'provider', 'body', 'metaData', 'reportTo', 'normalized'];
    for (const forbidden of setByCampaign) {
      if (forbidden in v.session) ctx.addIssue({ code: 'custom', path: ['session', forbidden], message: 'is set by the campaign' });
    }
    // The options every call gets are checked now, with this campaign's agent and a stand-in key: a bad one
    // fails the campaign before it dials, not each of its calls.
    const probe = probeSessionOptions(v);
    for (const issue of probe.success ? [] : probe.error.issues) {
      if (setByCampaign.includes(String(issue.path[0])) || issue.path[0] === 'tag') continue; // reported above
      ctx.addIssue({ code: 'custom', path: ['session', ...issue.path], message: issue.message });
    }
  })
  // Every call gets the options with their defaults applied, so a call need not validate them again.
  .transform((v) => {
    const probe = probeSessionOptions(v);
    if (!probe.success) return v; // not reached: the refinement above has reported it
    const { provider: _p, agentName: _a, deploymentId: _d, tag: _t, sessionKey: _k, ...session } = probe.data;
    return { ...v, session: session as Record<string, unknown> };
  });
