import type { AgentDetails, PlatformError } from './schemas';

/**
 * Where a given deployment of an agent stands, decided as the official CLI does
 * (`interpret_deployment_status`): a deployment is live only when the operator has reconciled it
 * (`reconciledDeploymentId == desiredDeploymentId`) and the agent is `ready` and `available`.
 * Checking `ready` alone reports an update as live before the operator has even picked it up.
 */
export type DeploymentState =
  | { kind: 'ready' }
  | { kind: 'failed'; errors: PlatformError[] }
  | { kind: 'crash-loop'; restartCount: number; reason: string; message?: string }
  | { kind: 'superseded'; desiredDeploymentId: string | null }
  | { kind: 'waiting-for-operator' }
  | { kind: 'progressing'; available: boolean; degraded: boolean };

export function interpretDeployment(agent: AgentDetails, deploymentId: string): DeploymentState {
  const desired = agent.desiredDeploymentId ?? agent.activeDeploymentId ?? null;
  if (desired !== deploymentId) return { kind: 'superseded', desiredDeploymentId: desired };
  // Errors left over from a previous, failed deployment must not fail this one before the operator has
  // even picked it up: count them once this deployment is reconciled (or when nothing else could own them).
  const reconciled = agent.reconciledDeploymentId ?? null;
  const errorsAreOurs = reconciled === null || reconciled === deploymentId || agent.currentRevision?.deploymentID === deploymentId;
  if (agent.errors && agent.errors.length > 0 && errorsAreOurs) return { kind: 'failed', errors: agent.errors };
  if (reconciled !== desired) return { kind: 'waiting-for-operator' };

  const ready = agent.ready || agent.activeDeploymentReady === true;
  const available = agent.available ?? ready;
  if (ready && available) return { kind: 'ready' };

  const revision = agent.currentRevision;
  const health = revision?.deploymentID === deploymentId ? revision.health : undefined;
  if (revision?.phase === 'Failed') {
    return {
      kind: 'failed',
      errors: [{ code: health?.reason ?? 'PCC_DEPLOYMENT_FAILED', message: health?.message ?? 'revision phase Failed' }],
    };
  }
  if (health?.reason === 'CrashLoopBackOff' || health?.reason === 'ImagePullBackOff' || health?.reason === 'OOMKilled') {
    return {
      kind: 'crash-loop',
      restartCount: health.restartCount ?? 0,
      reason: health.reason,
      message: health.message ?? undefined,
    };
  }
  const degraded = (agent.conditions ?? []).some((c) => c.type === 'Degraded' && c.status === 'True');
  return { kind: 'progressing', available, degraded };
}

/** What the workflow shows in its `status` query: the revision as last seen, secrets-free. */
export interface RevisionSnapshot {
  deploymentId: string | null;
  phase: string | null;
  readyReplicas: number | null;
  healthReason: string | null;
  restartCount: number | null;
  ready: boolean;
  available: boolean;
  reconciledDeploymentId: string | null;
}

export function snapshotRevision(agent: AgentDetails): RevisionSnapshot {
  const revision = agent.currentRevision;
  return {
    deploymentId: revision?.deploymentID ?? null,
    phase: revision?.phase ?? null,
    readyReplicas: revision?.readyReplicas ?? null,
    healthReason: revision?.health?.reason ?? null,
    restartCount: revision?.health?.restartCount ?? null,
    ready: agent.ready,
    available: agent.available ?? agent.ready,
    reconciledDeploymentId: agent.reconciledDeploymentId ?? null,
  };
}

export function sameSnapshot(a: RevisionSnapshot | undefined, b: RevisionSnapshot): boolean {
  if (!a) return false;
  return (
    a.deploymentId === b.deploymentId &&
    a.phase === b.phase &&
    a.readyReplicas === b.readyReplicas &&
    a.healthReason === b.healthReason &&
    a.ready === b.ready &&
    a.available === b.available &&
    a.reconciledDeploymentId === b.reconciledDeploymentId
  );
}
