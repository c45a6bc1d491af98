import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { HttpError } from '../http';

/**
 * Agent and deployment state of the Pipecat Cloud simulator. State is stored as timestamps and the
 * API view is derived from them when a request arrives, so no timers run and a paused process
 * resumes exactly where the schedule says it should be.
 */

export interface DeployTiming {
  /** `desiredDeploymentId` changes at once; `reconciledDeploymentId` catches up after this. */
  reconcileDelayMs: number;
  /** Revision phase Creating (image pull, scheduling). */
  creatingMs: number;
  /** Revision phase Validating, then Active (ready). */
  validatingMs: number;
  /** The replaced revision shows Draining this long after the new one is Active. */
  drainingMs: number;
  /** Each deployment's Creating+Validating time gets + uniform(0, jitterMs). */
  jitterMs: number;
  /** A crash-looping container restarts this often (restartCount grows). */
  crashLoopRestartMs: number;
}

export const DEFAULT_TIMING: DeployTiming = {
  reconcileDelayMs: 1000,
  creatingMs: 2000,
  validatingMs: 3000,
  drainingMs: 5000,
  jitterMs: 0,
  crashLoopRestartMs: 10_000,
};

export type ImageBehaviour = 'ok' | 'image-not-found' | 'pull-unauthorized' | 'invalid-platform' | 'crash-loop';

const FAILURE_ERRORS: Record<Exclude<ImageBehaviour, 'ok' | 'crash-loop'>, { code: string; message: (image: string) => string }> = {
  'image-not-found': { code: 'PCC_IMAGE_NOT_FOUND', message: (i) => `Image ${i} not found. Check the image name and tag.` },
  'pull-unauthorized': {
    code: 'PCC_IMAGE_PULL_UNAUTHORIZED',
    message: (i) => `Unauthorized to pull image ${i}. Check the image pull secret set.`,
  },
  'invalid-platform': {
    code: 'PCC_INVALID_IMAGE_PLATFORM',
    message: (i) => `Image ${i} is not built for linux/arm64.`,
  },
};

/** Built-in conventions so sandbox users can try each failure without configuring anything. */
export function defaultBehaviour(image: string): ImageBehaviour {
  const at = image.lastIndexOf(':');
  const repo = at > image.lastIndexOf('/') ? image.slice(0, at) : image;
  const tag = at > image.lastIndexOf('/') ? image.slice(at + 1) : '';
  if (repo.includes('does-not-exist')) return 'image-not-found';
  if (repo.includes('unauthorized')) return 'pull-unauthorized';
  if (tag.startsWith('crashloop')) return 'crash-loop';
  if (tag.startsWith('amd64')) return 'invalid-platform';
  return 'ok';
}

export function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(value);
}

/** The fields that define a version: changing any of them makes a new deployment. */
export interface VersionSpec {
  image: string;
  nodeType: string;
  secretSet: string | null;
  imagePullSecretSet: string | null;
  agentProfile: 'agent-1x' | 'agent-2x' | 'agent-3x';
  maxSessionDuration: number | null;
  krispViva: { audioFilter: 'tel' | 'pro' | null } | null;
  enableKrisp: boolean;
}
const VERSION_KEYS = ['image', 'nodeType', 'secretSet', 'imagePullSecretSet', 'agentProfile', 'maxSessionDuration', 'krispViva'] as const;

export interface DeploymentRecord {
  id: string;
  spec: VersionSpec;
  behaviour: ImageBehaviour;
  createdAt: number;
  reconciledAt: number;
  /** End of Creating. */
  createdDoneAt: number;
  /** When it turns Active; null when it never will. */
  activeAt: number | null;
  failedAt: number | null;
  drainingMs: number;
  crashLoopRestartMs: number;
}

export interface AgentRecord {
  serviceId: string;
  name: string;
  region: string;
  organizationId: string;
  namespace: string;
  createdAt: number;
  updatedAt: number;
  autoScaling: { minReplicas: number; maxReplicas: number };
  deployments: DeploymentRecord[];
  deletedAt: number | null;
}

const PROFILE_RESOURCES = {
  'agent-1x': { cpu: '500m', memory: '1Gi' },
  'agent-2x': { cpu: '1000m', memory: '2Gi' },
  'agent-3x': { cpu: '1500m', memory: '3Gi' },
} as const;

// ── request validation ────────────────────────────────────────────────────────────────────────────

const int = z.number().int();
const AutoScalingSchema = z
  .object({ minAgents: int.min(0, 'autoScaling.minAgents must be >= 0').optional(), maxAgents: int.min(1, 'autoScaling.maxAgents must be >= 1').optional() })
  .loose();
const CommonFields = {
  image: z.string().min(1, 'image must not be empty').optional(),
  buildId: z.string().uuid('buildId must be a UUID').optional(),
  nodeType: z.literal('arm', { message: 'nodeType: only arm is supported' }).optional(),
  imagePullSecretSet: z.string().min(1).optional(),
  secretSet: z.string().min(1).optional(),
  autoScaling: AutoScalingSchema.optional(),
  krispViva: z.object({ audioFilter: z.enum(['tel', 'pro']).nullable() }).optional(),
  agentProfile: z.enum(['agent-1x', 'agent-2x', 'agent-3x'], { message: 'agentProfile must be agent-1x, agent-2x or agent-3x' }).optional(),
  maxSessionDuration: int.min(60, 'maxSessionDuration must be >= 60').max(14400, 'maxSessionDuration must be <= 14400').optional(),
  enableKrisp: z.boolean().optional(),
};
export const CreateRequestSchema = z
  .object({
    serviceName: z
      .string({ message: 'serviceName is required' })
      .max(54, 'serviceName must be at most 54 characters')
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])$/, 'serviceName must match ^[a-z0-9]([-a-z0-9]*[a-z0-9])$'),
    region: z.string().min(1).optional(),
    ...CommonFields,
  })
  .loose();
export const UpdateRequestSchema = z.object({ ...CommonFields, forceRedeploy: z.boolean().optional() }).loose();

function badRequest(message: string): HttpError {
  return new HttpError(400, { error: message, code: 'GENERIC_BAD_REQUEST' });
}

function parseOr400<T extends z.ZodType>(schema: T, body: unknown, prefix = ''): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.');
    const message = issue.message.includes(field.split('.').pop() ?? '@@') || !field ? issue.message : `${field}: ${issue.message}`;
    throw badRequest(`${prefix}${message}`);
  }
  return parsed.data;
}

function checkScaling(a: { minAgents?: number; maxAgents?: number } | undefined, current: { minReplicas: number; maxReplicas: number }, prefix: string) {
  const min = a?.minAgents ?? current.minReplicas;
  const max = a?.maxAgents ?? current.maxReplicas;
  if (max < min) throw badRequest(`${prefix}autoScaling.maxAgents must be >= autoScaling.minAgents`);
  return { minReplicas: min, maxReplicas: max };
}

// ── the store ─────────────────────────────────────────────────────────────────────────────────────

export interface SecretSetRecord {
  name: string;
  kind: 'secret' | 'imagePullSecret';
  region: string;
}

export interface AgentStoreOptions {
  timing: DeployTiming;
  /** Per-image overrides, e.g. a large image that pulls slowly; first matching glob wins. */
  timingFor?: (image: string) => Partial<DeployTiming> | undefined;
  random: () => number;
  behaviourFor: (image: string) => ImageBehaviour;
  organizationId: string;
}

export class AgentStore {
  readonly agents = new Map<string, AgentRecord>();
  readonly secretSets = new Map<string, SecretSetRecord>();
  constructor(private readonly options: AgentStoreOptions) {}

  setTiming(timing: Partial<DeployTiming>): void {
    Object.assign(this.options.timing, timing);
  }

  live(name: string): AgentRecord | undefined {
    const a = this.agents.get(name);
    return a && a.deletedAt === null ? a : undefined;
  }

  private checkSecrets(secretSet: string | undefined, pullSet: string | undefined): void {
    if (secretSet !== undefined && this.secretSets.get(secretSet)?.kind !== 'secret') {
      throw new HttpError(404, { error: 'Secret set not found', code: 'NOT_FOUND' });
    }
    if (pullSet !== undefined && this.secretSets.get(pullSet)?.kind !== 'imagePullSecret') {
      throw new HttpError(404, { error: 'Image pull secret set not found', code: 'NOT_FOUND' });
    }
  }

  private newDeployment(spec: VersionSpec, now: number): DeploymentRecord {
    const t = { ...this.options.timing, ...this.options.timingFor?.(spec.image) };
    const jitter = t.jitterMs > 0 ? this.options.random() * t.jitterMs : 0;
    const behaviour = this.options.behaviourFor(spec.image);
    const reconciledAt = now + t.reconcileDelayMs;
    const createdDoneAt = reconciledAt + t.creatingMs + jitter / 2;
    const failing = behaviour !== 'ok' && behaviour !== 'crash-loop';
    return {
      id: randomUUID(),
      spec,
      behaviour,
      createdAt: now,
      reconciledAt,
      createdDoneAt,
      activeAt: behaviour === 'ok' ? createdDoneAt + t.validatingMs + jitter / 2 : null,
      failedAt: failing ? createdDoneAt : null,
      drainingMs: t.drainingMs,
      crashLoopRestartMs: t.crashLoopRestartMs,
    };
  }

  create(body: unknown, now = Date.now()): AgentRecord {
    const req = parseOr400(CreateRequestSchema, body);
    if (!req.image && !req.buildId) throw badRequest('Either image or buildId is required to create a service');
    if (req.image && req.buildId) throw badRequest('Cannot specify both image and buildId. Please provide only one.');
    if (req.buildId) throw badRequest('Build not found');
    if (this.live(req.serviceName)) throw badRequest('Service already exists');
    this.checkSecrets(req.secretSet, req.imagePullSecretSet);
    const autoScaling = checkScaling(req.autoScaling, { minReplicas: 0, maxReplicas: 50 }, '');
    const spec: VersionSpec = {
      image: req.image!,
      nodeType: req.nodeType ?? 'arm',
      secretSet: req.secretSet ?? null,
      imagePullSecretSet: req.imagePullSecretSet ?? null,
      agentProfile: req.agentProfile ?? 'agent-1x',
      maxSessionDuration: req.maxSessionDuration ?? null,
      krispViva: req.krispViva ?? null,
      enableKrisp: req.enableKrisp ?? false,
    };
    const agent: AgentRecord = {
      serviceId: randomUUID(),
      name: req.serviceName,
      region: req.region ?? 'us-west',
      organizationId: this.options.organizationId,
      namespace: 'sim-org-namespace',
      createdAt: now,
      updatedAt: now,
      autoScaling,
      deployments: [this.newDeployment(spec, now)],
      deletedAt: null,
    };
    this.agents.set(agent.name, agent);
    return agent;
  }

  /** Returns the agent and a warning when nothing changed. */
  update(name: string, body: unknown, now = Date.now()): { agent: AgentRecord; warning?: string } {
    const agent = this.live(name);
    if (!agent) throw new HttpError(404, { error: 'Service not found', code: 'NOT_FOUND' });
    const req = parseOr400(UpdateRequestSchema, body, 'Invalid parameters: ');
    if (req.image && req.buildId) throw badRequest('Cannot specify both image and buildId. Please provide only one.');
    if (req.buildId) throw badRequest('Build not found');
    this.checkSecrets(req.secretSet, req.imagePullSecretSet);
    const autoScaling = checkScaling(req.autoScaling, agent.autoScaling, 'Invalid parameters: ');
    const current = agent.deployments.at(-1)!.spec;
    const next: VersionSpec = {
      image: req.image ?? current.image,
      nodeType: req.nodeType ?? current.nodeType,
      secretSet: req.secretSet ?? current.secretSet,
      imagePullSecretSet: req.imagePullSecretSet ?? current.imagePullSecretSet,
      agentProfile: req.agentProfile ?? current.agentProfile,
      maxSessionDuration: req.maxSessionDuration ?? current.maxSessionDuration,
      krispViva: req.krispViva ?? current.krispViva,
      enableKrisp: req.enableKrisp ?? current.enableKrisp,
    };
    const versionChanged = VERSION_KEYS.some((k) => JSON.stringify(next[k]) !== JSON.stringify(current[k]));
    const scalingChanged =
      autoScaling.minReplicas !== agent.autoScaling.minReplicas || autoScaling.maxReplicas !== agent.autoScaling.maxReplicas;
    agent.autoScaling = autoScaling;
    if (!versionChanged && !req.forceRedeploy) {
      if (scalingChanged) agent.updatedAt = now;
      return scalingChanged
        ? { agent }
        : { agent, warning: 'No changes detected. The deployment was not updated. Use forceRedeploy to create a new deployment anyway.' };
    }
    agent.deployments.push(this.newDeployment(next, now));
    agent.updatedAt = now;
    return { agent };
  }

  delete(name: string, now = Date.now()): void {
    const agent = this.live(name);
    if (!agent) throw new HttpError(404, { error: 'Service not found', code: 'NOT_FOUND' });
    agent.deletedAt = now;
  }
}

// ── the derived API view ──────────────────────────────────────────────────────────────────────────

type Phase = 'Creating' | 'Validating' | 'Active' | 'Draining' | 'Failed';
const iso = (ms: number) => new Date(ms).toISOString();

function phaseOf(d: DeploymentRecord, now: number): { phase: Phase; since: number } {
  if (now < d.createdDoneAt) return { phase: 'Creating', since: d.reconciledAt };
  if (d.failedAt !== null) return { phase: 'Failed', since: d.failedAt };
  if (d.activeAt === null || now < d.activeAt) return { phase: 'Validating', since: d.createdDoneAt };
  return { phase: 'Active', since: d.activeAt };
}

function healthOf(d: DeploymentRecord, now: number, phase: Phase) {
  if (phase === 'Creating' || phase === 'Failed') return undefined;
  if (d.behaviour === 'crash-loop') {
    const restartCount = Math.floor((now - d.createdDoneAt) / d.crashLoopRestartMs) + 1;
    return {
      ready: false,
      state: 'waiting',
      restartCount,
      replicasStarted: 1,
      reason: 'CrashLoopBackOff',
      lastExitCode: 1,
      lastTerminationReason: 'Error',
      message: 'Traceback (most recent call last):\n  File "/app/bot.py", line 12, in <module>\n    from pipecat.transports import missing_module\nModuleNotFoundError: No module named \'pipecat.transports.missing_module\'',
    };
  }
  return { ready: phase === 'Active', state: 'running', restartCount: 0, replicasStarted: 1 };
}

/** The deployment the operator has reconciled at `now` (the newest whose reconcile time has passed). */
function reconciledAt(agent: AgentRecord, now: number): DeploymentRecord | undefined {
  for (let i = agent.deployments.length - 1; i >= 0; i--) {
    if (agent.deployments[i]!.reconciledAt <= now) return agent.deployments[i];
  }
  return undefined;
}

function revisionInfo(d: DeploymentRecord, agent: AgentRecord, now: number, phaseOverride?: { phase: Phase; since: number }) {
  const p = phaseOverride ?? phaseOf(d, now);
  const health = healthOf(d, now, p.phase);
  return {
    deploymentID: d.id,
    phase: p.phase,
    readyReplicas: p.phase === 'Active' ? Math.max(agent.autoScaling.minReplicas, 0) : 0,
    phaseStartedAt: iso(p.since),
    ...(health ? { health } : {}),
  };
}

export function deploymentJson(agent: AgentRecord, d: DeploymentRecord) {
  const spec = d.spec;
  return {
    id: d.id,
    serviceId: agent.serviceId,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.createdAt),
    manifest: {
      apiVersion: 'pipecatcloud.daily.co/v1',
      kind: 'PCService',
      metadata: { name: agent.name, namespace: agent.namespace },
      spec: {
        dailyNodeType: spec.nodeType,
        clusterLocal: true,
        image: spec.image,
        autoScaling: { minReplicas: agent.autoScaling.minReplicas, maxReplicas: agent.autoScaling.maxReplicas },
        ...(spec.imagePullSecretSet ? { imagePullSecretName: spec.imagePullSecretSet } : {}),
        envFromSecretNames: spec.secretSet ? [spec.secretSet] : [],
        resources: PROFILE_RESOURCES[spec.agentProfile],
        krispModels: { enabled: spec.enableKrisp },
        krispViva: { audioFilters: Boolean(spec.krispViva?.audioFilter) },
        ...(spec.maxSessionDuration !== null ? { maxSessionDurationSeconds: spec.maxSessionDuration } : {}),
      },
    },
  };
}

/** `ServiceDetailsResponse` as the API answers it at `now`. */
export function agentDetails(agent: AgentRecord, now = Date.now(), extra: { activeSessionCount?: number } = {}) {
  const desired = agent.deployments.at(-1)!;
  const reconciled = reconciledAt(agent, now);
  const servingIndex = agent.deployments.findLastIndex((d) => d.activeAt !== null && d.activeAt <= now && d.reconciledAt <= now);
  const serving = servingIndex >= 0 ? agent.deployments[servingIndex] : undefined;

  const current = reconciled;
  const currentPhase = current ? phaseOf(current, now) : undefined;
  const ready = currentPhase?.phase === 'Active';
  const available = serving !== undefined;

  // The revision before `current`: still serving while `current` rolls out, draining for a while after.
  let previousRevision: ReturnType<typeof revisionInfo> | null = null;
  if (current) {
    const prior = agent.deployments
      .slice(0, agent.deployments.indexOf(current))
      .findLast((d) => d.activeAt !== null && d.activeAt <= now);
    if (prior) {
      if (!ready) previousRevision = revisionInfo(prior, agent, now, { phase: 'Active', since: prior.activeAt! });
      else if (now < current.activeAt! + prior.drainingMs) {
        previousRevision = { ...revisionInfo(prior, agent, now, { phase: 'Draining', since: current.activeAt! }), readyReplicas: 0 };
      }
    }
  }

  // Deploy errors belong to the requested deployment, once the operator has tried it.
  const failed = current === desired && currentPhase?.phase === 'Failed' && desired.behaviour in FAILURE_ERRORS;
  const errors = failed
    ? [
        {
          code: FAILURE_ERRORS[desired.behaviour as keyof typeof FAILURE_ERRORS].code,
          message: FAILURE_ERRORS[desired.behaviour as keyof typeof FAILURE_ERRORS].message(desired.spec.image),
        },
      ]
    : [];
  const crashLooping = current === desired && current.behaviour === 'crash-loop' && currentPhase?.phase === 'Validating';
  const progressing = !ready && !failed;

  const conditions = [
    { type: 'Available', status: available ? 'True' : 'False', ...(available ? {} : { reason: 'NoReadyReplicas' }) },
    {
      type: 'Progressing',
      status: progressing ? 'True' : 'False',
      ...(progressing ? { reason: current === desired ? 'RevisionRollingOut' : 'WaitingForOperator' } : {}),
    },
    {
      type: 'Degraded',
      status: failed || crashLooping ? 'True' : 'False',
      ...(failed ? { reason: errors[0]!.code, message: errors[0]!.message } : {}),
      ...(crashLooping ? { reason: 'CrashLoopBackOff', message: 'The agent container keeps exiting with code 1' } : {}),
    },
  ];

  return {
    name: agent.name,
    region: agent.region,
    ready,
    available,
    createdAt: iso(agent.createdAt),
    updatedAt: iso(agent.updatedAt),
    desiredDeploymentId: desired.id,
    activeDeploymentId: desired.id,
    reconciledDeploymentId: current?.id ?? null,
    activeDeploymentReady: ready,
    autoScaling: { minReplicas: agent.autoScaling.minReplicas, maxReplicas: agent.autoScaling.maxReplicas },
    activeSessionCount: extra.activeSessionCount ?? 0,
    agentProfile: desired.spec.agentProfile,
    krispViva: desired.spec.krispViva,
    deployment: deploymentJson(agent, desired),
    currentRevision: current ? revisionInfo(current, agent, now) : null,
    previousRevision,
    errors,
    conditions,
  };
}

export function agentListItem(agent: AgentRecord, includeDeployment: boolean) {
  const desired = agent.deployments.at(-1)!;
  const reconciled = reconciledAt(agent, Date.now());
  return {
    id: agent.serviceId,
    name: agent.name,
    region: agent.region,
    desiredDeploymentId: desired.id,
    activeDeploymentId: desired.id,
    reconciledDeploymentId: reconciled?.id ?? null,
    organizationId: agent.organizationId,
    createdAt: iso(agent.createdAt),
    updatedAt: iso(agent.updatedAt),
    deletedAt: null,
    ...(includeDeployment ? { deployment: deploymentJson(agent, desired) } : {}),
  };
}
