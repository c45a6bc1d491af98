import { z } from 'zod';

/** Pipecat's own rule for service names. */
export const AGENT_NAME_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const AgentNameSchema = z
  .string({ message: 'is required' })
  .min(1, 'is required')
  .max(54, 'must be at most 54 characters')
  .regex(AGENT_NAME_PATTERN, 'must be lowercase letters, digits and dashes, starting and ending with a letter or digit');

export const DeployAgentInputSchema = z
  .strictObject({
    agentName: AgentNameSchema,
    image: z
      .string({ message: 'is required' })
      .min(1, 'is required')
      .refine((v) => v.includes(':') && !/\s/.test(v), 'must be a full image reference with a tag or digest, e.g. repo/agent:1.2'),
    nodeType: z.literal('arm', { message: "must be 'arm' (the only node type Pipecat Cloud supports)" }).optional(),
    region: z.string().min(1).optional(),
    secretSet: z.string().min(1).optional(),
    imagePullSecretSet: z.string().min(1).optional(),
    autoScaling: z
      .strictObject({
        minAgents: z.number().int().min(0, 'must be >= 0').optional(),
        maxAgents: z.number().int().min(1, 'must be >= 1').optional(),
      })
      .refine((a) => a.minAgents === undefined || a.maxAgents === undefined || a.maxAgents >= a.minAgents, {
        message: 'maxAgents must be >= minAgents',
        path: ['maxAgents'],
      })
      .optional(),
    agentProfile: z.enum(['agent-1x', 'agent-2x', 'agent-3x']).optional(),
    maxSessionDuration: z.number().int().min(60, 'must be >= 60 seconds').max(14400, 'must be <= 14400 seconds').optional(),
    krispViva: z.strictObject({ audioFilter: z.enum(['tel', 'pro']).nullable() }).optional(),
    forceRedeploy: z.boolean().default(false),
    readyTimeoutSec: z.number().min(1, 'must be >= 1').max(86_400, 'must be <= 86400').default(600),
    pollIntervalSec: z.number().min(0.1, 'must be >= 0.1').max(300, 'must be <= 300').default(5),
    rollbackOnFailure: z.boolean().default(true),
    /** A revision crash-looping this many restarts counts as failed without waiting out the timeout; 0 waits. */
    crashLoopRestartLimit: z.number().int().min(0).default(3),
  })
  .refine((v) => v.readyTimeoutSec >= v.pollIntervalSec, {
    message: 'must be >= pollIntervalSec',
    path: ['readyTimeoutSec'],
  });


