import type { RevisionSnapshot } from '../providers/pipecat/readiness';
import type { AgentSpec } from '../providers/pipecat/schemas';
import type { DeployAgentInputSchema } from './deploy-schema';
import type { z } from 'zod';

// No runtime zod here: workflow code imports this module, and every import is instantiated per workflow.
export type DeployAgentInput = z.input<typeof DeployAgentInputSchema>;
export type DeployAgentOptions = z.output<typeof DeployAgentInputSchema>;

/** The fields that define an agent version on Pipecat Cloud (request casing). */
export type AgentDeploySpec = AgentSpec;

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
