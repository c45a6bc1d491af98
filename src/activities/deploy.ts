import { activityInfo, heartbeat, sleep, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { AgentDeploySpec, DeployFailureInfo } from '../domain/deploy';
import { ProviderError } from '../providers/http';
import type { PipecatClient } from '../providers/pipecat/client';
import {
  interpretDeployment,
  sameSnapshot,
  snapshotRevision,
  type RevisionSnapshot,
} from '../providers/pipecat/readiness';
import type { AgentDetails } from '../providers/pipecat/schemas';
import { withFailureMapping } from './failures';

export interface DeployActivityDeps {
  pipecat: PipecatClient;
}

export interface AgentDescription {
  exists: boolean;
  desiredDeploymentId: string | null;
  ready: boolean;
  /** The live version's spec, for rolling back to it; null for a new agent. */
  current: AgentDeploySpec | null;
}

export interface ApplyDeployInput {
  agentName: string;
  spec: AgentDeploySpec;
  forceRedeploy: boolean;
  /** Whether `describeAgent` found the agent. */
  agentExists: boolean;
  /** `desiredDeploymentId` seen by `describeAgent` before anything changed (null: none). */
  priorDeploymentId: string | null;
}

export interface ApplyDeployResult {
  deploymentId: string;
  /** When the platform answered (epoch ms): the readiness cadence starts here. */
  appliedAtMs: number;
  action: 'created' | 'updated' | 'unchanged' | 'adopted';
  warning: string | null;
}

export interface WaitForDeploymentInput {
  agentName: string;
  deploymentId: string;
  /** Epoch ms after which the wait ends with `timeout`. */
  deadlineMs: number;
  /** Epoch ms of the first GET (one interval after the previous answer): keeps the cadence across calls. */
  firstPollAtMs: number;
  pollIntervalMs: number;
  /** Return as soon as the revision differs from this, so the workflow's status query stays current. */
  lastSnapshot: RevisionSnapshot | null;
  returnOnChange: boolean;
  crashLoopRestartLimit: number;
}

export interface WaitForDeploymentResult {
  outcome: 'ready' | 'failed' | 'timeout' | 'changed';
  snapshot: RevisionSnapshot | null;
  failure: DeployFailureInfo | null;
  polls: number;
  /** When the GET that saw the outcome was answered (epoch ms). */
  observedAtMs: number;
}

function deploymentIdOf(agent: AgentDetails): string | null {
  return agent.desiredDeploymentId ?? agent.activeDeploymentId ?? agent.deployment?.id ?? null;
}

/** The spec of the agent's current version, read back from the response (response casing differs). */
export function specOfAgent(agent: AgentDetails): AgentDeploySpec | null {
  const spec = agent.deployment?.manifest?.spec;
  const image = spec?.image;
  if (!image) return null;
  const result: AgentDeploySpec = { image };
  if (spec.dailyNodeType) result.nodeType = spec.dailyNodeType;
  const secretSet = spec.envFromSecretNames?.[0];
  if (secretSet) result.secretSet = secretSet;
  if (spec.imagePullSecretName) result.imagePullSecretSet = spec.imagePullSecretName;
  const scaling = agent.autoScaling ?? spec.autoScaling;
  if (scaling && (scaling.minReplicas != null || scaling.maxReplicas != null)) {
    result.autoScaling = {
      ...(scaling.minReplicas != null ? { minAgents: scaling.minReplicas } : {}),
      ...(scaling.maxReplicas != null ? { maxAgents: scaling.maxReplicas } : {}),
    };
  }
  if (agent.agentProfile === 'agent-1x' || agent.agentProfile === 'agent-2x' || agent.agentProfile === 'agent-3x') {
    result.agentProfile = agent.agentProfile;
  }
  if (spec.maxSessionDurationSeconds != null) result.maxSessionDuration = spec.maxSessionDurationSeconds;
  if (agent.krispViva) result.krispViva = { audioFilter: agent.krispViva.audioFilter };
  return result;
}

export function createDeployActivities({ pipecat }: DeployActivityDeps) {
  return {
    async describeAgent(agentName: string): Promise<AgentDescription> {
      return withFailureMapping(async () => {
        const agent = await pipecat.getAgent(agentName);
        if (!agent) return { exists: false, desiredDeploymentId: null, ready: false, current: null };
        return {
          exists: true,
          desiredDeploymentId: deploymentIdOf(agent),
          ready: agent.ready,
          current: specOfAgent(agent),
        };
      });
    },

    /**
     * Create or update, safely retryable: create and update are not idempotent on Pipecat Cloud, so each
     * attempt first re-reads the agent. If an earlier attempt's request was applied but its response was
     * lost, the agent's desired deployment has moved on from `priorDeploymentId` to our image: adopt it
     * instead of creating a second deployment (or failing with "Service already exists").
     */
    async applyAgentDeploy(input: ApplyDeployInput): Promise<ApplyDeployResult> {
      return withFailureMapping(async () => {
        const { agentName, spec, forceRedeploy, priorDeploymentId } = input;
        // The first attempt trusts `describeAgent`'s reading; only a retry pays for a fresh GET.
        const firstAttempt = activityInfo().attempt === 1;
        const existing = firstAttempt ? undefined : await pipecat.getAgent(agentName);
        if (existing) {
          const desired = deploymentIdOf(existing);
          if (desired && desired !== priorDeploymentId && existing.deployment?.manifest?.spec?.image === spec.image) {
            log.info('Adopting deployment applied by an earlier attempt', { agentName, deploymentId: desired });
            return { deploymentId: desired, appliedAtMs: Date.now(), action: 'adopted', warning: null };
          }
        }
        const exists = firstAttempt ? input.agentExists : existing !== null;
        if (!exists) {
          let created: AgentDetails;
          try {
            created = await pipecat.createAgent({ serviceName: agentName, ...spec });
          } catch (err) {
            // Someone created it between our read and our create: retry, and the retry re-reads and updates.
            if (err instanceof ProviderError && err.status === 400 && /already exists/i.test(err.message)) {
              throw ApplicationFailure.retryable(err.message, 'AgentCreatedConcurrently');
            }
            throw err;
          }
          const deploymentId = deploymentIdOf(created);
          if (!deploymentId) throw ApplicationFailure.nonRetryable('Pipecat Cloud created the agent but returned no deployment id', 'InvalidResponse');
          return { deploymentId, appliedAtMs: Date.now(), action: 'created', warning: created.warning ?? null };
        }
        const { region: _region, ...updatable } = spec;
        const updated = await pipecat.updateAgent(agentName, { ...updatable, ...(forceRedeploy ? { forceRedeploy: true } : {}) });
        const deploymentId = deploymentIdOf(updated);
        if (!deploymentId) throw ApplicationFailure.nonRetryable('Pipecat Cloud updated the agent but returned no deployment id', 'InvalidResponse');
        const unchanged = Boolean(updated.warning) || deploymentId === priorDeploymentId;
        return { deploymentId, appliedAtMs: Date.now(), action: unchanged ? 'unchanged' : 'updated', warning: updated.warning ?? null };
      });
    },

    /**
     * Polls one deployment on a fixed cadence inside a heartbeating activity, so a long wait costs a
     * handful of history events rather than several per poll. Returns when the deployment is live, has
     * failed, the deadline passes, or (with `returnOnChange`) the revision moved on, which keeps the
     * workflow's `status` query current at a cost of one activity per state change.
     */
    async waitForDeployment(input: WaitForDeploymentInput): Promise<WaitForDeploymentResult> {
      // Polls made by earlier attempts of this call survive a retry through the heartbeat details.
      const previous = activityInfo().heartbeatDetails as { polls?: number } | undefined;
      let polls = previous?.polls ?? 0;
      return withFailureMapping(async () => {
        let last = input.lastSnapshot ?? undefined;
        let nextPollAt = activityInfo().attempt > 1 ? Date.now() : input.firstPollAtMs;

        for (;;) {
          const now = Date.now();
          if (nextPollAt >= input.deadlineMs) {
            if (input.deadlineMs > now) await sleep(input.deadlineMs - now);
            return {
              outcome: 'timeout',
              snapshot: last ?? null,
              failure: { code: 'Timeout', message: `not live before the ready timeout (last phase: ${last?.phase ?? 'unknown'})` },
              polls,
              observedAtMs: Date.now(),
            };
          }
          if (nextPollAt > now) await sleep(nextPollAt - now);

          polls += 1;
          heartbeat({ polls });
          const agent = await pipecat.getAgent(input.agentName);
          const observedAtMs = Date.now();
          // The interval runs from each answer, as the official CLI's sleep-then-GET loop does: a slow API
          // stretches the cadence instead of stacking requests.
          nextPollAt = observedAtMs + input.pollIntervalMs;
          if (!agent) {
            throw ApplicationFailure.nonRetryable(`agent ${input.agentName} no longer exists (deleted during the deploy)`, 'AgentDeleted');
          }
          const snapshot = snapshotRevision(agent);
          const state = interpretDeployment(agent, input.deploymentId);
          switch (state.kind) {
            case 'ready':
              return { outcome: 'ready', snapshot, failure: null, polls, observedAtMs };
            case 'failed': {
              const first = state.errors[0];
              return {
                outcome: 'failed',
                snapshot,
                failure: {
                  code: first?.code ?? 'PCC_UNKNOWN_ERROR',
                  message: state.errors.length === 1 ? (first?.message ?? '') : state.errors.map((e) => `${e.code}: ${e.message}`).join('; '),
                },
                polls,
                observedAtMs,
              };
            }
            case 'superseded':
              return {
                outcome: 'failed',
                snapshot,
                failure: {
                  code: 'Superseded',
                  message: `another deployment (${state.desiredDeploymentId ?? 'none'}) replaced ${input.deploymentId} while it rolled out`,
                },
                polls,
                observedAtMs,
              };
            case 'crash-loop':
              if (input.crashLoopRestartLimit > 0 && state.restartCount >= input.crashLoopRestartLimit) {
                return {
                  outcome: 'failed',
                  snapshot,
                  failure: {
                    code: state.reason,
                    message: `${state.reason} after ${state.restartCount} restarts${state.message ? `: ${state.message.split('\n').slice(-1)[0]}` : ''}`,
                  },
                  polls,
                  observedAtMs,
                };
              }
              break;
            default:
              break;
          }
          if (input.returnOnChange && !sameSnapshot(last, snapshot)) {
            return { outcome: 'changed', snapshot, failure: null, polls, observedAtMs };
          }
          last = snapshot;
        }
      }, { heartbeatDetails: () => ({ polls }) });
    },
  };
}

export type DeployActivities = ReturnType<typeof createDeployActivities>;
