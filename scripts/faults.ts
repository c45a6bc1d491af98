/**
 * Fault suite: a campaign on the Pipecat Cloud simulator while everything that can break does.
 *   (a) kill -9 of the worker three times, restarting it each time;
 *   (b) a restart of the (file-backed) Temporal dev server mid-campaign;
 *   (c) simulator faults: 5 % 5xx, 2 % connection resets, 1 % answers slower than the client's
 *       timeout (the work is done, the answer comes late), 1 % writes applied whose answer is lost.
 * It first runs the same campaign with no faults, to say how much time the faults cost. Then it
 * checks, from the simulator's own records: sessions per (contact, attempt) ≤ 1 — never two;
 * sessions still running at the end = 0; contacts without a final outcome = 0. Exit code 1 if not.
 *
 *   npm run faults                 300 contacts, concurrency 20
 *   npm run faults -- --short      60 contacts, concurrency 10 (CI)
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { eventTimeMs, machineDescription } from '../bench/stats';
import { startCampaign } from '../src/client/campaign';
import type { CampaignInput, CampaignResult } from '../src/domain/campaign';
import { PipecatClient } from '../src/providers/pipecat/client';
import { startPipecatSimulator, type PipecatSimulator } from '../src/simulators/pipecat';
import { freePort, resolveTemporalCli, startDevServer, type DevServer } from '../src/temporal/dev-server';
import { spawnWorkerProcess, writeWorkflowBundle } from '../test/helpers/spawn-worker';

const { values: args } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    contacts: { type: 'string' },
    concurrency: { type: 'string' },
    seed: { type: 'string', default: '7' },
  },
});
const N = Number(args.contacts ?? (args.short ? 60 : 300));
const C = Number(args.concurrency ?? (args.short ? 10 : 20));
// Calls outlast the client's timeout, as real calls do: a start whose answer was lost is then still
// live when it is reconciled, and its bot can say which request started it.
const HTTP_TIMEOUT_MS = 4_000;
const CALL_MS = { min: 6_000, max: 12_000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stdout.write(`${line}\n`);

interface Run {
  result: CampaignResult;
  seconds: number;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const dir = mkdtempSync(path.join(tmpdir(), 'vao-faults-'));
  const cliPath = await resolveTemporalCli(process.env.TEMPORAL_CLI_PATH || undefined);
  const port = await freePort();
  const dbFile = path.join(dir, 'temporal.sqlite');
  const startServer = async (): Promise<DevServer> => {
    for (let i = 0; ; i++) {
      try {
        return await startDevServer({ cliPath, port, uiPort: null, dbFile });
      } catch (err) {
        if (i >= 20) throw err;
        await sleep(500); // the old process's port may take a moment to free
      }
    }
  };
  let server = await startServer();
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  const sim: PipecatSimulator = await startPipecatSimulator({
    seed: Number(args.seed),
    timing: { reconcileDelayMs: 200, creatingMs: 0, validatingMs: 0 },
    sessions: { naturalDurationMs: CALL_MS, warmStartMs: 50 },
  });
  const pipecat = new PipecatClient({ apiUrl: sim.url, publicApiUrl: sim.publicUrl, privateApiKey: sim.privateApiKey, publicApiKey: sim.publicApiKey, timeoutMs: 10_000 });

  const bundlePath = await writeWorkflowBundle(dir);
  const sealKey = randomBytes(32).toString('base64');
  const taskQueue = 'faults';
  const startWorker = (): ChildProcess =>
    spawnWorkerProcess({
      temporalAddress: server.address,
      taskQueue,
      bundlePath,
      pipecat: { url: sim.url, privateApiKey: sim.privateApiKey, publicApiKey: sim.publicApiKey },
      sealKey,
      httpTimeoutMs: HTTP_TIMEOUT_MS,
    });
  let worker = startWorker();

  const input = (campaignId: string, agentName: string): CampaignInput => ({
    campaignId,
    agentName,
    concurrency: C,
    contacts: Array.from({ length: N }, (_, i) => ({ contactId: `c${i}`, phone: `+1555${String(i).padStart(7, '0')}` })),
    session: { statusPollSec: 0.5, goodbye: { kind: 'none' }, startTimeoutSec: 300 },
    retry: { maxAttempts: 3, backoffSec: [1, 3], on: ['failed', 'capacity'] },
  });
  const createAgent = async (name: string) => {
    await pipecat.createAgent({ serviceName: name, image: 'acme/bot:1.0', autoScaling: { minAgents: 0, maxAgents: C } });
    await sleep(300);
  };

  /** Waits for the campaign's end through server restarts: a long poll would die with the server. */
  const waitFor = async (campaignId: string, during: (started: number) => Promise<void>): Promise<Run> => {
    const t0 = Date.now();
    const handle = client.workflow.getHandle(`campaign:${campaignId}`);
    const background = during(t0);
    for (;;) {
      try {
        const { status } = await handle.describe();
        if (status.name !== 'RUNNING') break;
      } catch {
        // server restarting
      }
      await sleep(250);
    }
    await background;
    const result = (await handle.result()) as CampaignResult;
    return { result, seconds: (Date.now() - t0) / 1000 };
  };

  const sessionsOf = (agentName: string) => sim.sessions(agentName);
  try {
    log(`Fault suite — ${new Date().toISOString()}`);
    log(`Machine: ${machineDescription()}`);
    log(`Campaign: ${N} contacts, concurrency ${C}, calls ${CALL_MS.min / 1000}–${CALL_MS.max / 1000} s, HTTP timeout ${HTTP_TIMEOUT_MS / 1000} s, retry up to 3 attempts`);

    // 1. Baseline, no faults.
    await createAgent('calm');
    await startCampaign(client, input('calm', 'calm'), { taskQueue });
    const calm = await waitFor('calm', async () => {});
    log(`baseline (no faults): ${calm.seconds.toFixed(1)} s, ${calm.result.progress.completed}/${N} completed`);

    // 2. The same campaign under faults, kills and a server restart.
    await createAgent('storm');
    sim.setFaults({ errorRate: 0.05, resetRate: 0.02, slowRate: 0.01, slowResponseMs: HTTP_TIMEOUT_MS + 2_000, dropResponseRate: 0.01 });
    const stormStart = Date.now();
    await startCampaign(client, input('storm', 'storm'), { taskQueue });
    const events: string[] = [];
    const storm = await waitFor('storm', async (t0) => {
      const at = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
      const waitForSessions = async (share: number) => {
        while (sessionsOf('storm').length < Math.ceil(N * share)) await sleep(100);
      };
      for (const share of [0.15, 0.35, 0.55]) {
        await waitForSessions(share);
        worker.kill('SIGKILL');
        await new Promise((r) => worker.once('exit', r));
        events.push(`${at()} kill -9 worker (${sessionsOf('storm').length} sessions started)`);
        worker = startWorker();
      }
      await waitForSessions(0.7);
      await server.stop();
      events.push(`${at()} Temporal dev server stopped (${sessionsOf('storm').length} sessions started)`);
      server = await startServer();
      events.push(`${at()} Temporal dev server back on the same SQLite file`);
    });
    sim.setFaults({ errorRate: 0, resetRate: 0, slowRate: 0, dropResponseRate: 0 });
    for (const e of events) log(`  ${e}`);

    // Sessions end by themselves; give the last ones time to be stopped or to hang up.
    for (const until = Date.now() + 30_000; Date.now() < until && sim.liveSessionCount('storm') > 0; ) await sleep(200);

    const perAttempt = new Map<string, number>();
    for (const s of sessionsOf('storm')) {
      const key = String((s.body as { vaoSessionKey?: string } | null)?.vaoSessionKey ?? `unknown:${s.sessionId}`);
      perAttempt.set(key, (perAttempt.get(key) ?? 0) + 1);
    }
    const twice = [...perAttempt].filter(([, n]) => n > 1);
    const running = sim.liveSessionCount('storm');
    const finals = new Set(['completed', 'failed', 'skipped', 'cancelled']);
    const withoutOutcome = N - storm.result.outcomes.filter((o) => finals.has(o.status)).length;
    const injected = Object.values(sim.injectedFaults()).reduce<Record<string, number>>((sum, byKind) => {
      for (const [kind, n] of Object.entries(byKind)) sum[kind] = (sum[kind] ?? 0) + (n ?? 0);
      return sum;
    }, {});
    const p = storm.result.progress;
    log(`under faults: ${storm.seconds.toFixed(1)} s, ${p.completed} completed, ${p.failed} failed, ${p.skipped} skipped`);
    const ambiguous = storm.result.outcomes.filter((o) => o.reason === 'ambiguous-start').length;
    log(`  of the failed, start unconfirmed either way (a lost answer, the session already over; never redialled): ${ambiguous}`);
    log(`  injected: ${Object.entries(injected).map(([k, n]) => `${n} ${k}`).join(', ') || 'none'}`);
    log(`  sessions started: ${sessionsOf('storm').length} for ${perAttempt.size} (contact, attempt) keys`);
    log(`  (contact, attempt) keys with more than one session: ${twice.length}${twice.length ? ` ${JSON.stringify(twice.slice(0, 5))}` : ''}   (must be 0)`);
    log(`  sessions still running at the end: ${running}   (must be 0)`);
    log(`  contacts without a final outcome: ${withoutOutcome}   (must be 0)`);
    log(`  time lost to the faults: ${(storm.seconds - calm.seconds).toFixed(1)} s (${((storm.seconds / calm.seconds - 1) * 100).toFixed(0)} %)`);
    if (process.env.FAULTS_DEBUG) {
      const all = sessionsOf('storm');
      const first = Math.min(...all.map((x) => x.createdAt));
      log(`  first session +${((first - stormStart) / 1000).toFixed(1)} s; starts per 10 s: ${JSON.stringify(all.reduce<number[]>((b, x) => ((b[Math.floor((x.createdAt - stormStart) / 10_000)] = (b[Math.floor((x.createdAt - stormStart) / 10_000)] ?? 0) + 1), b), []))}`);
      for (const o of storm.result.outcomes.filter((x) => x.status !== 'completed')) log(`  ${o.contactId}: ${o.status} ${JSON.stringify(o.endReasons)} ${JSON.stringify((o as { errors?: unknown }).errors ?? '')}`);
      for await (const w of client.workflow.list({ query: `WorkflowType = 'agentSession' AND WorkflowId STARTS_WITH 'agent-session:pipecat:storm.'` })) {
        const h = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
        const fails = (h.events ?? []).filter((e) => e.activityTaskFailedEventAttributes || e.activityTaskTimedOutEventAttributes || e.workflowTaskFailedEventAttributes);
        const t = (e: NonNullable<typeof h.events>[number]) => ((eventTimeMs(e) - stormStart) / 1000).toFixed(1);
        if (fails.length) log(`  ${w.workflowId} +${((w.startTime.getTime() - stormStart) / 1000).toFixed(1)}: ${fails.map((e) => `${t(e)}:${e.activityTaskFailedEventAttributes?.failure?.message ?? e.activityTaskTimedOutEventAttributes?.failure?.message ?? e.workflowTaskFailedEventAttributes?.cause}`).join(' | ').slice(0, 400)}`);
      }
    }
    const ok = twice.length === 0 && running === 0 && withoutOutcome === 0;
    log(ok ? 'PASS' : 'FAIL');
    process.exitCode = ok ? 0 : 1;
  } finally {
    worker.kill('SIGTERM');
    await sim.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`fault suite failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
