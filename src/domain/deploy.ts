import { z } from 'zod';
import type { RevisionSnapshot } from '../providers/pipecat/readiness';

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

export type DeployAgentInput = z.input<typeof DeployAgentInputSchema>;
export type DeployAgentOptions = z.output<typeof DeployAgentInputSchema>;

/** The fields that define an agent version on Pipecat Cloud (request casing). */
export interface AgentDeploySpec {
  image: string;
  nodeType?: string;
  region?: string;
  secretSet?: string;
  imagePullSecretSet?: string;
  autoScaling?: { minAgents?: number; maxAgents?: number };
  agentProfile?: 'agent-1x' | 'agent-2x' | 'agent-3x';
  maxSessionDuration?: number;
  krispViva?: { audioFilter: 'tel' | 'pro' | null };
}

export function specFromInput(input: DeployAgentOptions): AgentDeploySpec {
  const { image, nodeType, region, secretSet, imagePullSecretSet, autoScaling, agentProfile, maxSessionDuration, krispViva } = input;
  return { image, nodeType, region, secretSet, imagePullSecretSet, autoScaling, agentProfile, maxSessionDuration, krispViva };
}

/** Failure type of a deploy that ended `failed`; its details hold the `DeployAgentResult`. */
export const DEPLOY_FAILED = 'DeployFailed';

/** One deploy per agent at a time: the workflow id is derived from the agent name. */
export function deployWorkflowId(agentName: string): string {
  return `deploy-agent:${agentName}`;
}

export type DeployPhase = 'validating' | 'inspecting' | 'deploying' | 'waiting' | 'rolling-back' | 'waiting-rollback' | 'done';

export interface DeployFailureInfo {
  /** The platform's code (e.g. PCC_IMAGE_NOT_FOUND, CrashLoopBackOff) or ours (Timeout, Superseded). */
  code: string;
  message: string;
}

export interface DeployStatus {
  agentName: string;
  phase: DeployPhase;
  image: string;
  previousImage: string | null;
  deploymentId: string | null;
  rollbackDeploymentId: string | null;
  lastRevision: RevisionSnapshot | null;
  polls: number;
  failure: DeployFailureInfo | null;
}

export interface DeployAgentResult {
  agentName: string;
  deploymentId: string | null;
  status: 'ready' | 'rolled-back' | 'failed';
  image: string;
  previousImage: string | null;
  /** What the API did with our request: created, updated, unchanged (no-op, `warning` returned) or adopted. */
  action: 'created' | 'updated' | 'unchanged' | 'adopted' | null;
  rollbackDeploymentId: string | null;
  failure: DeployFailureInfo | null;
  warning: string | null;
  polls: number;
  /** When a poll first saw the deployment live (ISO); null unless `status` is 'ready'. */
  readyObservedAt: string | null;
  elapsedMs: number;
}
