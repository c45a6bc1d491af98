/**
 * Session benchmarks against the Pipecat simulator, on a real Temporal dev server:
 *  1. start latency through `startSession` (update-with-start) vs a direct POST /start, p50/p95;
 *  2. many live session workflows parked on their goodbye timers in one worker: RSS, CPU, activity slots.
 * Usage: npm run bench:sessions -- [--starts 200] [--parked 2000]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { readFileSync } from 'node:fs';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startSession } from '../src/client/session';
import { PipecatClient } from '../src/providers/pipecat/client';
import { Sealer } from '../src/security/sealing';
import { startPipecatSimulator } from '../src/simulators/pipecat';
import { freePort, resolveTemporalCli, startDevServer } from '../src/temporal/dev-server';
import { spawnWorkerProcess, writeWorkflowBundle } from '../test/helpers/spawn-worker';
import { eventTimeMs, machineDescription, percentile } from './stats';

const { values: args } = parseArgs({
  options: {
    starts: { type: 'string', default: '200' },
    parked: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '25' },
    'gap-ms': { type: 'string', default: '30' },
  },
});
const STARTS = Number(args.starts);
const PARKED = Number(args.parked);
const CONCURRENCY = Number(args.concurrency);
const GAP_MS = Number(args['gap-ms']);

async function pool<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const cliPath = await resolveTemporalCli(process.env.TEMPORAL_CLI_PATH || undefined);
  const server = await startDevServer({ cliPath, port: await freePort(), uiPort: null });
  const sim = await startPipecatSimulator({ seed: 5, timing: { reconcileDelayMs: 0, creatingMs: 0, validatingMs: 0 } });
  const pc = new PipecatClient({ apiUrl: sim.url, publicApiUrl: sim.publicUrl, privateApiKey: sim.privateApiKey, publicApiKey: sim.publicApiKey, timeoutMs: 10_000 });
  const sealKey = randomBytes(32);
  const sealer = new Sealer([{ id: 'bench', key: sealKey }]);
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const taskQueue = 'bench-sessions';

  // The worker runs in its own process with a pre-built bundle, as in production, so its memory is
  // measured alone (not the simulator's, the client's or the bundler's).
  const child = spawnWorkerProcess({
    temporalAddress: server.address,
    taskQueue,
    bundlePath: await writeWorkflowBundle(),
    pipecat: { url: sim.url, privateApiKey: sim.privateApiKey, publicApiKey: sim.publicApiKey },
    sealKey: sealKey.toString('base64'),
    maxCachedWorkflows: Number(process.env.VAO_MAX_CACHED_WORKFLOWS ?? '250'),
    stdout: 'pipe',
  });
  let lastStatus = { inFlightActivities: 0, cached: 0 };
  let statusLines = '';
  child.stdout!.on('data', (c: Buffer) => {
    statusLines += c.toString();
    const lines = statusLines.split('\n');
    statusLines = lines.pop()!;
    for (const line of lines) if (line.trim()) lastStatus = JSON.parse(line) as typeof lastStatus;
  });
  const workerRssMb = () => {
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
  };
  const workerCpuMs = () => {
    const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
  };
  const lines: string[] = [`Session benchmarks — ${new Date().toISOString()}`, `Machine: ${machineDescription()}`, ''];

  try {
    await (async () => {
      await pc.createAgent({ serviceName: 'bench-agent', image: 'acme/bot:1.0', autoScaling: { minAgents: 0, maxAgents: 50_000 }, maxSessionDuration: 14_400 });
      await new Promise((r) => setTimeout(r, 50));

      // 1. Start latency, one request at a time so each measures a single round trip.
      for (let i = 0; i < 20; i++) await pc.startSession('bench-agent', { body: {} }); // warm-up
      const direct: number[] = [];
      for (let i = 0; i < STARTS; i++) {
        const t = performance.now();
        await pc.startSession('bench-agent', { body: { i } });
        direct.push(performance.now() - t);
      }
      for (let i = 0; i < 20; i++) {
        await startSession(client, { agentName: 'bench-agent', sessionKey: `warm-${i}`, statusPollSec: 3600 }, { taskQueue, sealer });
      }
      const viaWorkflow: number[] = [];
      for (let i = 0; i < STARTS; i++) {
        const t = performance.now();
        await startSession(client, { agentName: 'bench-agent', sessionKey: `lat-${i}`, statusPollSec: 3600 }, { taskQueue, sealer });
        viaWorkflow.push(performance.now() - t);
      }
      // Requests that arrive apart (as user requests do) rather than back to back.
      const spaced: number[] = [];
      for (let i = 0; i < STARTS; i++) {
        await new Promise((r) => setTimeout(r, GAP_MS));
        const t = performance.now();
        await startSession(client, { agentName: 'bench-agent', sessionKey: `gap-${i}`, statusPollSec: 3600 }, { taskQueue, sealer });
        spaced.push(performance.now() - t);
      }
      if (process.env.BENCH_DEBUG) {
        for (const id of [`lat-${STARTS - 1}`, `lat-${STARTS - 2}`, `gap-${STARTS - 1}`]) {
          const h = await client.workflow.getHandle(`agent-session:pipecat:${id}`).fetchHistory();
          const t0 = eventTimeMs(h.events![0]!);
          process.stderr.write(`${id}: ${h.events!.slice(0, 16).map((e) => `${(eventTimeMs(e) - t0).toFixed(1)}:${e.eventType}`).join(' ')}\n`);
        }
      }
      const ms = (v: number) => v.toFixed(1);
      const d50 = percentile(direct, 50);
      const w50 = percentile(viaWorkflow, 50);
      lines.push(
        `Start latency (${STARTS} sequential starts each):`,
        '',
        '| path | p50 (ms) | p95 (ms) |',
        '|---|---|---|',
        `| direct POST /start to the simulator | ${ms(d50)} | ${ms(percentile(direct, 95))} |`,
        `| startSession, back to back | ${ms(w50)} | ${ms(percentile(viaWorkflow, 95))} |`,
        `| startSession, requests ${GAP_MS} ms apart | ${ms(percentile(spaced, 50))} | ${ms(percentile(spaced, 95))} |`,
        '',
        `p50 overhead back to back ${ms(w50 - d50)} ms (ratio ${(w50 / d50).toFixed(1)}×): ${w50 - d50 <= 50 ? 'met' : 'MISSED'}; ` +
          `${GAP_MS} ms apart ${ms(percentile(spaced, 50) - d50)} ms: ${percentile(spaced, 50) - d50 <= 50 ? 'met' : 'MISSED'} (target <= 50 ms)`,
        '',
      );

      // 2. Parked sessions: every workflow waits on its goodbye timer (polls every hour).
      const t0 = Date.now();
      await pool(PARKED, CONCURRENCY, (i) =>
        startSession(client, { agentName: 'bench-agent', sessionKey: `park-${i}`, statusPollSec: 3600, maxDurationSec: 14_000 }, { taskQueue, sealer }),
      );
      const startedIn = (Date.now() - t0) / 1000;
      await new Promise((r) => setTimeout(r, 5000)); // settle
      const cpu0 = workerCpuMs();
      const w0 = Date.now();
      const rss: number[] = [];
      const inFlight: number[] = [];
      for (let s = 0; s < 30; s++) {
        rss.push(workerRssMb());
        inFlight.push(lastStatus.inFlightActivities);
        await new Promise((r) => setTimeout(r, 1000));
      }
      const cpuPct = ((workerCpuMs() - cpu0) / (Date.now() - w0)) * 100;
      const maxRss = Math.max(...rss);
      lines.push(
        `Parked sessions: ${PARKED} live agentSession workflows started in ${startedIn.toFixed(0)} s (${(PARKED / startedIn).toFixed(0)}/s), then observed for 30 s while they wait:`,
        '',
        `- worker process RSS (pre-built bundle, ${lastStatus.cached} workflows cached): max ${maxRss.toFixed(0)} MB; target <= 400 MB: ${maxRss <= 400 ? 'met' : 'MISSED'}`,
        `- worker CPU while waiting: ${cpuPct.toFixed(1)} % of one core`,
        `- activities in flight while waiting: max ${Math.max(...inFlight)} (no activity slot is held by a waiting session)`,
        `- live sessions on the simulator: ${sim.liveSessionCount('bench-agent')}`,
      );
    })();
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await sim.close();
    await connection.close();
    await server.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
