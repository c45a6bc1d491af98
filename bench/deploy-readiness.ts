/**
 * Deploy readiness benchmark: how late `deployAgent` notices that a deployment went live, and how many
 * GETs a deploy costs, against the official Pipecat CLI's fixed loop (sleep 5 s, GET, repeat) on the same
 * simulated platform in the same run. Usage: npm run bench -- [--deploys N] [--interval SEC]
 */
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities';
import { startDeploy } from '../src/client/deploy';
import { PipecatClient } from '../src/providers/pipecat/client';
import { startPipecatSimulator, type PipecatSimulator } from '../src/simulators/pipecat';
import { freePort, resolveTemporalCli, startDevServer } from '../src/temporal/dev-server';
import { WORKFLOWS_PATH } from '../src/worker';
import { machineDescription, mean, percentile } from './stats';

const { values: args } = parseArgs({
  options: {
    deploys: { type: 'string', default: '20' },
    interval: { type: 'string', default: '5' },
    seed: { type: 'string', default: '42' },
  },
});
const DEPLOYS = Number(args.deploys);
const INTERVAL_SEC = Number(args.interval);

// Realistic rollout: the operator reconciles in ~1 s, the image pulls and validates in 5–15 s.
const TIMING = { reconcileDelayMs: 1000, creatingMs: 2000, validatingMs: 3000, drainingMs: 2000, jitterMs: 10_000 };
const LATENCY = { min: 20, max: 80 };

interface Sample {
  latenessMs: number;
  gets: number;
}

function clientFor(sim: PipecatSimulator): PipecatClient {
  return new PipecatClient({ apiUrl: sim.url, publicApiUrl: sim.publicUrl, privateApiKey: sim.privateApiKey, timeoutMs: 10_000 });
}

async function seedAgents(sim: PipecatSimulator, prefix: string): Promise<string[]> {
  const client = clientFor(sim);
  const names = Array.from({ length: DEPLOYS }, (_, i) => `${prefix}-${i}`);
  await Promise.all(names.map((serviceName) => client.createAgent({ serviceName, image: 'acme/bot:1.0' })));
  return names;
}

function getsFor(sim: PipecatSimulator): number {
  return sim.requestCounts()['GET /agents/:name'] ?? 0;
}

/** The official CLI's loop (pipecatcloud deploy.py): GET, deploy, then sleep 5 s and GET until ready. */
async function fixedLoopDeploy(client: PipecatClient, agentName: string, image: string): Promise<number> {
  await client.getAgent(agentName);
  const deployed = await client.updateAgent(agentName, { image });
  const deploymentId = deployed.desiredDeploymentId!;
  for (let i = 0; i < 120; i++) {
    await new Promise((r) => setTimeout(r, INTERVAL_SEC * 1000));
    const agent = await client.getAgent(agentName);
    if (agent?.errors?.length) throw new Error(`deploy failed: ${agent.errors[0]!.code}`);
    const reconciled = agent?.desiredDeploymentId === agent?.reconciledDeploymentId && agent?.desiredDeploymentId === deploymentId;
    const available = agent?.available ?? agent?.ready;
    if (agent && reconciled && available && (agent.ready || agent.activeDeploymentReady)) return Date.now();
  }
  throw new Error('fixed loop timed out');
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const cliPath = await resolveTemporalCli(process.env.TEMPORAL_CLI_PATH || undefined);
  const server = await startDevServer({ cliPath, port: await freePort(), uiPort: null });
  const sim = await startPipecatSimulator({ seed: Number(args.seed), timing: TIMING, faults: { latencyMs: LATENCY } });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const taskQueue = 'bench-deploy';
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: createActivities({ pipecat: clientFor(sim) }),
  });

  try {
    const ours: Sample[] = [];
    const fixed: Sample[] = [];
    await worker.runUntil(async () => {
      // deployAgent workflows, all agents at once.
      const names = await seedAgents(sim, 'wf');
      await new Promise((r) => setTimeout(r, 20_000)); // let every seed deployment go live first
      sim.resetCounts();
      const results = await Promise.all(
        names.map(async (agentName) => {
          const handle = await startDeploy(client, { agentName, image: 'acme/bot:2.0', pollIntervalSec: INTERVAL_SEC }, { taskQueue });
          return handle.result();
        }),
      );
      const workflowGets = getsFor(sim);
      for (const result of results) {
        const timeline = sim.deploymentTimelines(result.agentName).find((t) => t.deploymentId === result.deploymentId)!;
        ours.push({ latenessMs: Date.parse(result.readyObservedAt!) - timeline.activeAt!, gets: workflowGets / results.length });
      }
    });

    // The fixed loop, on fresh agents with the same timing distribution.
    const names = await seedAgents(sim, 'fixed');
    await new Promise((r) => setTimeout(r, 20_000));
    sim.resetCounts();
    const pc = clientFor(sim);
    const seen = await Promise.all(names.map((n) => fixedLoopDeploy(pc, n, 'acme/bot:2.0').then((at) => ({ n, at }))));
    const fixedGets = getsFor(sim);
    for (const { n, at } of seen) {
      const timeline = sim.deploymentTimelines(n).at(-1)!;
      fixed.push({ latenessMs: at - timeline.activeAt!, gets: fixedGets / seen.length });
    }

    const row = (label: string, s: Sample[]) =>
      `| ${label} | ${s.length} | ${(percentile(s.map((x) => x.latenessMs), 50) / 1000).toFixed(2)} | ${(percentile(s.map((x) => x.latenessMs), 95) / 1000).toFixed(2)} | ${(Math.max(...s.map((x) => x.latenessMs)) / 1000).toFixed(2)} | ${mean(s.map((x) => x.gets)).toFixed(1)} |`;
    const p95 = percentile(ours.map((x) => x.latenessMs), 95);
    const out = [
      `Deploy readiness benchmark — ${new Date().toISOString()}`,
      `Machine: ${machineDescription()}`,
      `Simulator: reconcile ${TIMING.reconcileDelayMs} ms, ready after ${TIMING.creatingMs + TIMING.validatingMs}–${TIMING.creatingMs + TIMING.validatingMs + TIMING.jitterMs} ms, API latency ${LATENCY.min}–${LATENCY.max} ms; poll interval ${INTERVAL_SEC} s`,
      '',
      '| poller | deploys | lateness p50 (s) | lateness p95 (s) | lateness max (s) | GETs per deploy |',
      '|---|---|---|---|---|---|',
      row('deployAgent workflow', ours),
      row(`official CLI fixed ${INTERVAL_SEC} s loop`, fixed),
      '',
      `target p95 lateness <= ${INTERVAL_SEC} s: ${p95 <= INTERVAL_SEC * 1000 ? 'met' : 'MISSED'}; ` +
        `GETs <= fixed loop: ${mean(ours.map((x) => x.gets)) <= mean(fixed.map((x) => x.gets)) ? 'met' : 'MISSED'}`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await sim.close();
    await connection.close();
    await nativeConnection.close();
    await server.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
