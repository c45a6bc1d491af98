import { z } from 'zod';

/**
 * Pipecat Cloud response shapes. Objects are loose (unknown fields pass through) because the API
 * adds fields over time, and most fields are optional/nullable because the docs, the OpenAPI spec
 * and the official clients disagree on which are always present.
 */

const nullableString = z.string().nullish();

export const PlatformErrorSchema = z.looseObject({ code: z.string(), message: z.string().default('') });
export type PlatformError = z.infer<typeof PlatformErrorSchema>;

export const ConditionSchema = z.looseObject({
  type: z.string(),
  status: z.string(),
  reason: nullableString,
  message: nullableString,
});

export const RevisionHealthSchema = z.looseObject({
  ready: z.boolean().nullish(),
  state: nullableString,
  restartCount: z.number().nullish(),
  replicasStarted: z.number().nullish(),
  reason: nullableString,
  lastExitCode: z.number().nullish(),
  lastTerminationReason: nullableString,
  message: nullableString,
});

export const RevisionInfoSchema = z.looseObject({
  deploymentID: nullableString, // capital "ID", unlike every other field
  phase: nullableString,
  readyReplicas: z.number().nullish(),
  phaseStartedAt: nullableString,
  health: RevisionHealthSchema.nullish(),
  hasInfrastructureIssue: z.boolean().nullish(),
});
export type RevisionInfo = z.infer<typeof RevisionInfoSchema>;

export const DeploymentSpecSchema = z.looseObject({
  dailyNodeType: nullableString,
  image: nullableString,
  autoScaling: z.looseObject({ minReplicas: z.number().nullish(), maxReplicas: z.number().nullish() }).nullish(),
  imagePullSecretName: nullableString,
  envFromSecretNames: z.array(z.string()).nullish(),
  krispModels: z.looseObject({ enabled: z.boolean().nullish() }).nullish(),
  krispViva: z.looseObject({ audioFilters: z.unknown() }).nullish(),
  maxSessionDurationSeconds: z.number().nullish(),
});

export const DeploymentSchema = z.looseObject({
  id: z.string(),
  serviceId: nullableString,
  createdAt: nullableString,
  updatedAt: nullableString,
  manifest: z
    .looseObject({
      apiVersion: nullableString,
      kind: nullableString,
      metadata: z.looseObject({ name: nullableString, namespace: nullableString }).nullish(),
      spec: DeploymentSpecSchema.nullish(),
    })
    .nullish(),
});

export const KrispVivaSchema = z.looseObject({ audioFilter: z.enum(['tel', 'pro']).nullable() });

export const AgentDetailsSchema = z.looseObject({
  name: z.string(),
  region: nullableString,
  ready: z.boolean().default(false),
  available: z.boolean().nullish(),
  createdAt: nullableString,
  updatedAt: nullableString,
  desiredDeploymentId: nullableString,
  activeDeploymentId: nullableString, // deprecated alias of desiredDeploymentId
  reconciledDeploymentId: nullableString,
  activeDeploymentReady: z.boolean().nullish(), // deprecated alias of ready
  autoScaling: z.looseObject({ minReplicas: z.number().nullish(), maxReplicas: z.number().nullish() }).nullish(),
  activeSessionCount: z.number().nullish(),
  agentProfile: nullableString,
  krispViva: KrispVivaSchema.nullish(),
  deployment: DeploymentSchema.nullish(),
  currentRevision: RevisionInfoSchema.nullish(),
  previousRevision: RevisionInfoSchema.nullish(),
  errors: z.array(PlatformErrorSchema).nullish(),
  conditions: z.array(ConditionSchema).nullish(),
  /** Sent on a no-op update: nothing changed and no new deployment was made. */
  warning: nullableString,
});
export type AgentDetails = z.infer<typeof AgentDetailsSchema>;

export const AgentListSchema = z.looseObject({
  services: z.array(
    z.looseObject({
      id: nullableString,
      name: z.string(),
      region: nullableString,
      desiredDeploymentId: nullableString,
      activeDeploymentId: nullableString,
      reconciledDeploymentId: nullableString,
      createdAt: nullableString,
      updatedAt: nullableString,
      deletedAt: nullableString,
      deployment: DeploymentSchema.nullish(),
    }),
  ),
});
export type AgentList = z.infer<typeof AgentListSchema>;

export const DeleteAgentSchema = z.looseObject({ status: z.string().optional() });

/** Request bodies: the request side says `minAgents`/`maxAgents`, the response `minReplicas`/`maxReplicas`. */
export interface AgentSpec {
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

export type CreateAgentRequest = Omit<AgentSpec, never> & { serviceName: string };
export type UpdateAgentRequest = Omit<AgentSpec, 'region'> & { forceRedeploy?: boolean };
