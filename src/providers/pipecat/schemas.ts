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

// ── Sessions ──────────────────────────────────────────────────────────────────────────────────────

export const TransportSchema = z.enum(['daily', 'webrtc', 'websocket']);

export interface StartSessionRequest {
  createDailyRoom?: boolean;
  dailyRoomProperties?: Record<string, unknown>;
  dailyMeetingTokenProperties?: Record<string, unknown>;
  enableDefaultIceServers?: boolean;
  transport?: z.infer<typeof TransportSchema>;
  body?: Record<string, unknown>;
}

export const IceConfigSchema = z.looseObject({
  iceServers: z.array(
    z.looseObject({ urls: z.union([z.array(z.string()), z.string()]), username: z.string().nullish(), credential: z.string().nullish() }),
  ),
});

export const StartSessionResponseSchema = z.looseObject({
  sessionId: z.string().nullish(), // older deployments answered without it (pipecat-cloud#61)
  dailyRoom: nullableString,
  dailyToken: nullableString,
  token: nullableString,
  wsUrl: nullableString,
  body: nullableString,
  iceConfig: IceConfigSchema.nullish(),
});
export type StartSessionResponse = z.infer<typeof StartSessionResponseSchema>;

export const SessionSchema = z.looseObject({
  sessionId: z.string(),
  serviceId: nullableString,
  organizationId: nullableString,
  deploymentId: nullableString,
  endedAt: nullableString,
  botStartSeconds: z.number().nullish(),
  coldStart: z.boolean().nullish(),
  completionStatus: nullableString,
  createdAt: nullableString,
  updatedAt: nullableString,
});
export type Session = z.infer<typeof SessionSchema>;

export const SessionListSchema = z.looseObject({
  total_count: z.number().nullish(), // snake_case, unlike the rest of the API
  sessions: z.array(SessionSchema),
});
export type SessionList = z.infer<typeof SessionListSchema>;

export const StopSessionSchema = z.looseObject({ status: nullableString, session_id: nullableString });
