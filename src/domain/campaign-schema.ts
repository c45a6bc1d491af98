import { z } from 'zod';
import { AgentNameSchema } from './deploy-schema';

const IdSchema = z
  .string({ message: 'is required' })
  .min(1, 'is required')
  .max(100, 'must be at most 100 characters')
  .regex(/^[A-Za-z0-9_@:-]+$/, 'may contain letters, digits and _ @ : - only');

export const ContactSchema = z.strictObject({
  contactId: IdSchema,
  /** Goes into the session body (Pipecat) or metaData (VideoSDK). */
  data: z.record(z.string(), z.unknown()).optional(),
  phone: z.string().min(3).max(32).optional(),
  timeZone: z.string().min(1).optional(),
});

const END_REASONS = ['ended', 'stopped', 'goodbye', 'max-duration', 'failed', 'capacity', 'cancelled'] as const;

export const CampaignInputSchema = z
  .strictObject({
    campaignId: IdSchema,
    provider: z.enum(['pipecat', 'videosdk']).default('pipecat'),
    agentName: AgentNameSchema.optional(),
    deploymentId: z.string().min(1).optional(),
    tag: z.string().min(1).optional(),
    /** agentSession options applied to every call (no sessionKey, agent or body: the campaign sets those). */
    session: z.record(z.string(), z.unknown()).default({}),
    contacts: z.array(ContactSchema).min(1, 'must list at least one contact').max(1000, 'inline lists hold at most 1000 contacts'),
    concurrency: z.number().int().min(1).max(500).default(10),
    /** Continue as new after this many history events (well before Temporal's 10,240 warning). */
    continueAsNewAfterEvents: z.number().int().min(50).max(10_000).default(4000),
    retry: z
      .strictObject({
        maxAttempts: z.number().int().min(1).max(10).default(3),
        backoffSec: z.array(z.number().min(0)).min(1).default([60, 300, 900]),
        on: z.array(z.enum(END_REASONS)).default(['failed', 'capacity']),
      })
      .default({ maxAttempts: 3, backoffSec: [60, 300, 900], on: ['failed', 'capacity'] }),
  })
  .superRefine((v, ctx) => {
    if (v.provider === 'pipecat' && !v.agentName) ctx.addIssue({ code: 'custom', path: ['agentName'], message: 'is required for provider pipecat' });
    if (v.provider === 'videosdk' && !v.deploymentId) ctx.addIssue({ code: 'custom', path: ['deploymentId'], message: 'is required for provider videosdk' });
    const seen = new Set<string>();
    v.contacts.forEach((c, i) => {
      if (seen.has(c.contactId)) ctx.addIssue({ code: 'custom', path: ['contacts', i, 'contactId'], message: `duplicate contactId ${c.contactId}` });
      seen.add(c.contactId);
    });
    for (const forbidden of ['sessionKey', 'agentName', 'deploymentId', 'provider', 'body', 'metaData', 'reportTo']) {
      if (forbidden in v.session) ctx.addIssue({ code: 'custom', path: ['session', forbidden], message: 'is set by the campaign' });
    }
  });
