import { PipecatClient } from '../../src/providers/pipecat/client';
import { startPipecatSimulator, type PipecatSimulator, type PipecatSimulatorOptions } from '../../src/simulators/pipecat';
import type { ActivityDeps } from '../../src/activities';
import { Sealer } from '../../src/security/sealing';

/** Fast deploy timings so a rollout takes well under a second. */
export const FAST_TIMING = { reconcileDelayMs: 100, creatingMs: 150, validatingMs: 200, drainingMs: 200, jitterMs: 0 };

export async function startSim(options: PipecatSimulatorOptions = {}): Promise<PipecatSimulator> {
  return startPipecatSimulator({ seed: 7, ...options, timing: { ...FAST_TIMING, ...options.timing } });
}

export function pipecatClientFor(sim: PipecatSimulator, overrides: { privateApiKey?: string; publicApiKey?: string; timeoutMs?: number } = {}): PipecatClient {
  return new PipecatClient({
    apiUrl: sim.url,
    publicApiUrl: sim.publicUrl,
    privateApiKey: overrides.privateApiKey ?? sim.privateApiKey,
    publicApiKey: overrides.publicApiKey ?? sim.publicApiKey,
    timeoutMs: overrides.timeoutMs ?? 2000,
  });
}

/** A fixed key for tests, so tests can open what activities sealed. */
export const testSealer = new Sealer([{ id: 'test', key: Buffer.alloc(32, 7) }]);

export function depsFor(
  sim: PipecatSimulator,
  overrides: { privateApiKey?: string; publicApiKey?: string; timeoutMs?: number } & Partial<ActivityDeps> = {},
): ActivityDeps {
  const { privateApiKey, publicApiKey, timeoutMs, ...rest } = overrides;
  return {
    pipecat: pipecatClientFor(sim, { privateApiKey, publicApiKey, timeoutMs }),
    sealer: testSealer,
    capacityBackoff: { initialMs: 50, maxMs: 400 },
    ...rest,
  };
}

/** Creates an agent straight through the API and waits until its first deployment is live. */
export async function seedLiveAgent(sim: PipecatSimulator, agentName: string, image: string): Promise<void> {
  const client = pipecatClientFor(sim);
  await client.createAgent({ serviceName: agentName, image, secretSet: 'default-secrets', autoScaling: { minAgents: 0, maxAgents: 5 } });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const agent = await client.getAgent(agentName);
    if (agent?.ready && agent.reconciledDeploymentId === agent.desiredDeploymentId) return;
    if (Date.now() > deadline) throw new Error(`seed agent ${agentName} never became ready`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The most sessions that were live at the same moment. */
export function maxConcurrent(sessions: Array<{ createdAt: number; endedAt: number | null }>): number {
  const edges = sessions.flatMap((s) => [
    { t: s.createdAt, d: 1 },
    { t: s.endedAt ?? Infinity, d: -1 },
  ]);
  edges.sort((a, b) => a.t - b.t || a.d - b.d);
  let live = 0;
  let max = 0;
  for (const e of edges) max = Math.max(max, (live += e.d));
  return max;
}
