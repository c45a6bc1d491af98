/**
 * Deploy readiness benchmark: how late `deployAgent` notices that a deployment went live, and how many
 * GETs a deploy costs, against the official Pipecat CLI's fixed loop (sleep 5 s, GET, repeat) on the same
 * simulated platform in the same run. Usage: npm run bench -- [--deploys N] [--interval SEC]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities';
import { startDeploy } from '../src/client/deploy';
import { PipecatClient } from '../src/providers/pipecat/client';
import { Sealer } from '../src/security/sealing';
import { seededRandom } from '../src/simulators/faults';
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
const SEED = Number(args.seed);

// Realistic rollout: the operator reconciles in ~1 s, the image pulls and validates within 5–40 s.
const TIMING = { reconcileDelayMs: 1000, creatingMs: 2000, validatingMs: 3000, drainingMs: 2000, jitterMs: 0 };
const READY_MIN_MS = 5_000;
const READY_MAX_MS = 40_000;
const LATENCY = { min: 20, max: 80 };

interface Sample {
  latenessMs: number;
  gets: number;
}

function clientFor(sim: PipecatSimulator): PipecatClient {
  return new PipecatClient({ apiUrl: sim.url, publicApiUrl: sim.publicUrl, privateApiKey: sim.privateApiKey, timeoutMs: 10_000 });
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
  const sim = await startPipecatSimulator({ seed: SEED, timing: TIMING, faults: { latencyMs: LATENCY } });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const taskQueue = 'bench-deploy';
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: createActivities({ pipecat: clientFor(sim), sealer: new Sealer([{ id: 'bench', key: randomBytes(32) }]) }),
  });

  try {
    // Pair i: one agent deployed by the workflow, one by the fixed loop, both rolling out an image whose
    // rollout takes the same, randomly drawn time, at the same moment: same platform, same odds.
    const random = seededRandom(SEED);
    const pairs = Array.from({ length: DEPLOYS }, (_, i) => {
      const readyAfterMs = READY_MIN_MS + random() * (READY_MAX_MS - READY_MIN_MS);
      const image = `acme/bot:2.0-pair${i}`;
      sim.setImageTiming(image, { validatingMs: readyAfterMs - TIMING.reconcileDelayMs - TIMING.creatingMs, jitterMs: 0 });
      return { wf: `wf-${i}`, fixed: `fixed-${i}`, image };
    });
    const pc = clientFor(sim);
    await Promise.all(pairs.flatMap((p) => [p.wf, p.fixed]).map((serviceName) => pc.createAgent({ serviceName, image: 'acme/bot:1.0' })));
    await new Promise((r) => setTimeout(r, TIMING.reconcileDelayMs + TIMING.creatingMs + TIMING.validatingMs + 500));
    sim.resetCounts();

    const [results, fixedSeen] = await worker.runUntil(() =>
      Promise.all([
        Promise.all(
          pairs.map(async (p) => {
            const handle = await startDeploy(client, { agentName: p.wf, image: p.image, pollIntervalSec: INTERVAL_SEC }, { taskQueue });
            return handle.result();
          }),
        ),
        Promise.all(pairs.map(async (p) => ({ name: p.fixed, at: await fixedLoopDeploy(pc, p.fixed, p.image) }))),
      ]),
    );

    const byPath = sim.requestCountsByPath();
    const getsOf = (name: string) => byPath[`GET /agents/${name}`] ?? 0;
    const activeAtOf = (name: string) => sim.deploymentTimelines(name).at(-1)!.activeAt!;
    const ours: Sample[] = results.map((r) => ({ latenessMs: Date.parse(r.readyObservedAt!) - activeAtOf(r.agentName), gets: getsOf(r.agentName) }));
    const fixed: Sample[] = fixedSeen.map((f) => ({ latenessMs: f.at - activeAtOf(f.name), gets: getsOf(f.name) }));

    if (process.env.BENCH_DEBUG) {
      pairs.forEach((p, i) => {
        const a = getsOf(p.wf);
        const b = getsOf(p.fixed);
        if (a !== b) process.stderr.write(`pair ${i}: workflow ${a} GETs (late ${ours[i]!.latenessMs} ms), fixed ${b} GETs (late ${fixed[i]!.latenessMs} ms)\n`);
      });
    }
    const secs = (ms: number) => (ms / 1000).toFixed(2);
    const row = (label: string, s: Sample[]) => {
      const l = s.map((x) => x.latenessMs);
      return `| ${label} | ${s.length} | ${secs(percentile(l, 50))} | ${secs(percentile(l, 95))} | ${secs(Math.max(...l))} | ${mean(s.map((x) => x.gets)).toFixed(2)} |`;
    };
    const p95 = percentile(ours.map((x) => x.latenessMs), 95);
    const getsOk = mean(ours.map((x) => x.gets)) <= mean(fixed.map((x) => x.gets));
    const out = [
      `Deploy readiness benchmark — ${new Date().toISOString()}`,
      `Machine: ${machineDescription()}`,
      `Simulator: reconcile ${TIMING.reconcileDelayMs} ms, each pair's rollout drawn from ${READY_MIN_MS / 1000}–${READY_MAX_MS / 1000} s, API latency ${LATENCY.min}–${LATENCY.max} ms; poll interval ${INTERVAL_SEC} s; seed ${SEED}`,
      '',
      '| poller | deploys | lateness p50 (s) | lateness p95 (s) | lateness max (s) | GETs per deploy |',
      '|---|---|---|---|---|---|',
      row('deployAgent workflow', ours),
      row(`official CLI fixed ${INTERVAL_SEC} s loop`, fixed),
      '',
      `target p95 lateness <= ${INTERVAL_SEC} s: ${p95 <= INTERVAL_SEC * 1000 ? 'met' : 'MISSED'}; GETs <= fixed loop: ${getsOk ? 'met' : 'MISSED'}`,
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
