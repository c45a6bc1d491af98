/**
 * Campaign benchmark against the VideoSDK simulator (its session webhooks tell the worker when a call
 * ends), on a real Temporal dev server, with the worker in its own process:
 *  1. our campaign: capacity C, N contacts, calls of about D seconds, realistic API latency — makespan
 *     against the ideal Σ(call time)/C, share of starts answered 429, slot-refill latency;
 *  2. a naive dialer in the same run, on an identical simulator: every start fired at once, 429s retried
 *     with exponential backoff (full jitter, 1 s doubling to 30 s), no idea of capacity;
 *  3. two campaigns sharing the agent through its capacity governor.
 * Usage: npm run bench:campaign -- [--contacts 1000] [--capacity 50] [--call-ms 2000]
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startCampaign } from '../src/client/campaign';
import type { CampaignInput } from '../src/domain/campaign';
import { ProviderError } from '../src/providers/http';
import { VideoSdkClient } from '../src/providers/videosdk/client';
import { startVideoSdkSimulator, type VideoSdkSimulator } from '../src/simulators/videosdk';
import { freePort, resolveTemporalCli, startDevServer } from '../src/temporal/dev-server';
import { startWebhookReceiver } from '../src/webhooks/receiver';
import { maxConcurrent } from '../test/helpers/pipecat';
import { spawnWorkerProcess, writeWorkflowBundle } from '../test/helpers/spawn-worker';
import { refillChain, workflowTaskTimings } from './refill-chain';
import { eventTimeMs, machineDescription, percentile } from './stats';

const { values: args } = parseArgs({
  options: {
    contacts: { type: 'string', default: '1000' },
    capacity: { type: 'string', default: '50' },
    'call-ms': { type: 'string', default: '2000' },
    'latency-min': { type: 'string', default: '40' },
    'latency-max': { type: 'string', default: '120' },
    'skip-naive': { type: 'boolean', default: false },
    // The campaign's continue-as-new threshold (events); unset: the workflow's default.
    'can-after': { type: 'string' },
  },
});
const N = Number(args.contacts);
const C = Number(args.capacity);
const CALL_MS = Number(args['call-ms']);
const LATENCY = { min: Number(args['latency-min']), max: Number(args['latency-max']) };
const QUEUED_MS = 200;

const simOptions = (seed: number) => ({
  seed,
  capacity: C,
  queuedMs: QUEUED_MS,
  stoppingMs: 100,
  naturalDurationMs: { min: CALL_MS * 0.9 - QUEUED_MS, max: CALL_MS * 1.1 - QUEUED_MS },
  faults: { latencyMs: LATENCY },
});

interface RunFigures {
  makespanS: number;
  idealS: number;
  starts: number;
  rejected: number;
  refillP50Ms: number;
  refillP95Ms: number;
  maxLive: number;
}

/** From the simulator's own records: how long the run took against the ideal, and how fast freed capacity was reused. */
function figures(sessions: ReturnType<VideoSdkSimulator['sessions']>, stats: { started: number; rejectedAtCapacity: number }): RunFigures {
  // A session holds capacity from its start until it stops being queued/running.
  const spans = sessions.map((s) => ({ start: s.createdAt, end: Math.min(s.naturalEndAt ?? Infinity, s.stopRequestedAt ?? Infinity) }));
  const first = Math.min(...spans.map((s) => s.start));
  const last = Math.max(...spans.map((s) => s.end));
  const busyMs = spans.reduce((sum, s) => sum + (s.end - s.start), 0);
  const starts = [...spans].map((s) => s.start).sort((a, b) => a - b);
  const ends = [...spans].map((s) => s.end).sort((a, b) => a - b);
  // The k-th start beyond the first C reuses the capacity the k-th end freed.
  const refill: number[] = [];
  for (let k = 0; k + C < starts.length; k++) refill.push(starts[k + C]! - ends[k]!);
  const maxLive = maxConcurrent(spans.map((s) => ({ createdAt: s.start, endedAt: s.end })));
  return {
    makespanS: (last - first) / 1000,
    idealS: busyMs / C / 1000,
    starts: stats.started,
    rejected: stats.rejectedAtCapacity,
    refillP50Ms: percentile(refill, 50),
    refillP95Ms: percentile(refill, 95),
    maxLive,
  };
}

async function waitForIdle(sim: VideoSdkSimulator, expected: number): Promise<void> {
  for (;;) {
    const sessions = sim.sessions();
    if (sessions.length >= expected && sim.liveSessionCount() === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function naiveDialer(sim: VideoSdkSimulator): Promise<void> {
  const client = new VideoSdkClient({ apiUrl: sim.url, apiKey: sim.apiKey, secret: sim.secret, timeoutMs: 30_000 });
  await Promise.all(
    Array.from({ length: N }, async (_, i) => {
      for (let attempt = 0; ; attempt++) {
        try {
          await client.startSession({ deploymentId: 'bench', metaData: { contactId: `n${i}` } });
          return;
        } catch (err) {
          if (!(err instanceof ProviderError) || err.kind === 'permanent') throw err;
          const cap = Math.min(30_000, 1000 * 2 ** attempt);
          await new Promise((r) => setTimeout(r, Math.random() * cap));
        }
      }
    }),
  );
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const cliPath = await resolveTemporalCli(process.env.TEMPORAL_CLI_PATH || undefined);
  const server = await startDevServer({ cliPath, port: await freePort(), uiPort: null });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const ours = await startVideoSdkSimulator(simOptions(11));
  const receiver = await startWebhookReceiver({ client, publicKey: ours.publicKeyPem, logger: new DefaultLogger('ERROR') });
  const taskQueue = 'bench-campaign';
  const worker: ChildProcess = spawnWorkerProcess({
    temporalAddress: server.address,
    taskQueue,
    bundlePath: await writeWorkflowBundle(),
    videosdk: { url: ours.url, apiKey: ours.apiKey, secret: ours.secret, webhookUrl: `${receiver.url}/webhooks/videosdk` },
    maxCachedWorkflows: 1000,
  });
  const workerRssMb = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${worker.pid}/status`, 'utf8'))![1]) / 1024;
  const lines = [`Campaign benchmark — ${new Date().toISOString()}`, `Machine: ${machineDescription()}`, ''];
  const campaignInput = (id: string, count: number, prefix: string): CampaignInput => ({
    campaignId: id,
    provider: 'videosdk',
    deploymentId: 'bench',
    agentCapacity: C,
    contacts: Array.from({ length: count }, (_, i) => ({ contactId: `${prefix}${i}`, phone: `+1555${String(i).padStart(7, '0')}` })),
    // Calls end by webhook; the status poll is only a safety net here.
    session: { statusPollSec: 60, goodbye: { kind: 'none' }, startTimeoutSec: 600 },
    retry: { maxAttempts: 3, backoffSec: [1, 5], on: ['failed', 'capacity'] },
    ...(args['can-after'] ? { continueAsNewAfterEvents: Number(args['can-after']) } : {}),
  });

  try {
    // Warm-up: a handful of calls so the first measured start does not pay for worker start-up.
    await (await startCampaign(client, campaignInput('warmup', 5, 'w'), { taskQueue })).result();
    await waitForIdle(ours, 5);
    const warm = ours.sessions().length;
    const warmStats = ours.stats();

    // 1. Our campaign. Inline lists hold 1,000 contacts at most; bigger runs go in pages of 1,000.
    const t0 = Date.now();
    const rssBefore = workerRssMb();
    const pages = Math.ceil(N / 1000);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'vao-contacts-')), 'contacts.jsonl');
    writeFileSync(file, Array.from({ length: N }, (_, i) => JSON.stringify({ contactId: `c${i}`, phone: `+1555${String(i).padStart(7, '0')}` })).join('\n'));
    const input: CampaignInput =
      pages === 1 ? campaignInput('bench', N, 'c') : { ...campaignInput('bench', 1, 'c'), contacts: undefined, contactsFile: { path: file }, pageSize: 1000 };
    const handle = await startCampaign(client, input, { taskQueue });
    const result = await handle.result();
    await waitForIdle(ours, warm + N);
    const ourSessions = ours.sessions().slice(warm);
    const stats = ours.stats();
    const f = figures(ourSessions, { started: stats.started - warmStats.started, rejectedAtCapacity: stats.rejectedAtCapacity - warmStats.rejectedAtCapacity });
    const wallS = (Date.now() - t0) / 1000;
    if (process.env.BENCH_DEBUG) {
      const first = Math.min(...ourSessions.map((x) => x.createdAt));
      const starts = ourSessions.map((x) => x.createdAt).sort((a, b) => a - b);
      const ends = ourSessions.map((x) => x.naturalEndAt!).sort((a, b) => a - b);
      const gaps = starts.slice(C).map((st, k) => ({ at: ends[k]! - first, ms: st - ends[k]! }));
      process.stderr.write(`worst refills: ${[...gaps].sort((a, b) => b.ms - a.ms).slice(0, 12).map((g) => `${(g.at / 1000).toFixed(1)}s:${g.ms.toFixed(0)}`).join(' ')}\n`);
      process.stderr.write(`refill chain, sampled calls:\n${await refillChain(client, ourSessions)}\n`);
      for await (const run of client.workflow.list({ query: `WorkflowId = 'campaign:bench'` })) {
        process.stderr.write(`campaign run started +${((run.startTime.getTime() - first) / 1000).toFixed(1)} s, ${run.historyLength} events\n`);
        process.stderr.write(`${await workflowTaskTimings(client, 'campaign:bench', run.runId)}\n`);
        const h = await client.workflow.getHandle('campaign:bench', run.runId).fetchHistory();
        const t = (e: NonNullable<typeof h.events>[number]) => (eventTimeMs(e) - first) / 1000;
        const failed = (h.events ?? []).filter((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
        if (failed.length) process.stderr.write(`  ${failed.length} workflow tasks failed, first at +${t(failed[0]!).toFixed(1)} s, last at +${t(failed[failed.length - 1]!).toFixed(1)} s; causes ${[...new Set(failed.map((e) => e.workflowTaskFailedEventAttributes?.cause))].join(',')}\n`);
      }
      // One slot refill, event by event, relative to the moment the ended call stopped holding capacity.
      const mid = [...ourSessions].sort((x, y) => (x.naturalEndAt ?? 0) - (y.naturalEndAt ?? 0))[Math.floor(ourSessions.length / 2)]!;
      const endAt = mid.naturalEndAt!;
      const next = [...ourSessions].filter((x) => x.createdAt > endAt).sort((x, y) => x.createdAt - y.createdAt)[0]!;
      const show = async (wf: string) => {
        const h = await client.workflow.getHandle(wf).fetchHistory();
        for (const e of h.events ?? []) {
          const t = eventTimeMs(e) - endAt;
          if (t > -50 && t < 1500) process.stderr.write(`${wf.slice(0, 40).padEnd(40)} ${t.toFixed(1).padStart(8)} ${e.eventType}\n`);
        }
      };
      process.stderr.write(`ended ${mid.metaData.contactId}; next ${next.metaData.contactId} created at +${(next.createdAt - endAt).toFixed(0)} ms\n`);
      await show(`agent-session:videosdk:${String(mid.metaData.vaoSessionKey)}`);
      await show('campaign:bench');
      await show(`agent-session:videosdk:${String(next.metaData.vaoSessionKey)}`);
    }

    // 2. Two campaigns sharing the agent through the governor, N/2 contacts each, started 2 s apart.
    const before2 = ours.sessions().length;
    const stats2Before = ours.stats();
    const a = await startCampaign(client, campaignInput('shared-a', Math.min(1000, N / 2), 'a'), { taskQueue });
    await new Promise((r) => setTimeout(r, 2000));
    const b = await startCampaign(client, campaignInput('shared-b', Math.min(1000, N / 2), 'b'), { taskQueue });
    const [ra, rb] = await Promise.all([a.result(), b.result()]);
    await waitForIdle(ours, before2 + ra.progress.total + rb.progress.total);
    const shared = ours.sessions().slice(before2);
    const stats2 = ours.stats();
    const f2 = figures(shared, { started: stats2.started - stats2Before.started, rejectedAtCapacity: stats2.rejectedAtCapacity - stats2Before.rejectedAtCapacity });
    const startedA = shared.filter((s) => String(s.metaData.contactId).startsWith('a')).map((s) => s.createdAt);
    const startedB = shared.filter((s) => String(s.metaData.contactId).startsWith('b')).map((s) => s.createdAt);
    const overlapStart = Math.min(...startedB);
    const overlapEnd = Math.min(Math.max(...startedA), Math.max(...startedB));
    const inOverlap = (xs: number[]) => xs.filter((t) => t >= overlapStart && t <= overlapEnd).length;

    // 3. The naive dialer, on a fresh simulator with identical settings.
    let naive: RunFigures | null = null;
    if (!args['skip-naive']) {
      const naiveSim = await startVideoSdkSimulator(simOptions(12));
      try {
        await naiveDialer(naiveSim);
        await waitForIdle(naiveSim, N);
        naive = figures(naiveSim.sessions(), naiveSim.stats());
      } finally {
        await naiveSim.close();
      }
    }

    const pct = (x: number, of: number) => `${((100 * x) / Math.max(1, of)).toFixed(1)} %`;
    const row = (name: string, r: RunFigures) =>
      `| ${name} | ${r.makespanS.toFixed(1)} | ${r.idealS.toFixed(1)} | ${(r.makespanS / r.idealS).toFixed(3)} | ${r.starts + r.rejected} | ${pct(r.rejected, r.starts + r.rejected)} | ${r.refillP50Ms.toFixed(0)} | ${r.refillP95Ms.toFixed(0)} | ${r.maxLive} |`;
    lines.push(
      `Setup: VideoSDK simulator, capacity C = ${C}, N = ${N} contacts, calls of ${CALL_MS * 0.9}–${CALL_MS * 1.1} ms (queued ${QUEUED_MS} ms included), API latency ${LATENCY.min}–${LATENCY.max} ms on every request, session end by signed webhook; worker in its own process.`,
      '',
      '| dialer | makespan (s) | ideal Σcall/C (s) | ratio | start requests | answered 429 | slot refill p50 (ms) | p95 (ms) | max live |',
      '|---|---|---|---|---|---|---|---|---|',
      row('campaign workflow', f),
      ...(naive ? [row('naive (fire all, 429 → exp. backoff)', naive)] : []),
      row(`two campaigns sharing the agent (${ra.progress.total} + ${rb.progress.total})`, f2),
      '',
      `Targets: makespan <= 1.15 x ideal: ${f.makespanS / f.idealS <= 1.15 ? 'met' : 'MISSED'}; 429s <= 2 % of starts: ${f.rejected / Math.max(1, f.starts + f.rejected) <= 0.02 ? 'met' : 'MISSED'}; slot refill p50 <= 1 s: ${f.refillP50Ms <= 1000 ? 'met' : 'MISSED'}.`,
      `Campaign result: ${result.progress.completed} completed, ${result.progress.failed} failed, ${result.progress.skipped} skipped; wall time ${wallS.toFixed(1)} s; worker RSS ${rssBefore.toFixed(0)} → ${workerRssMb().toFixed(0)} MB.`,
      `Sharing: while both dialled, A started ${inOverlap(startedA)} calls and B ${inOverlap(startedB)}; never more than ${f2.maxLive} live (capacity ${C}).`,
    );
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));
    await receiver.close();
    await ours.close();
    await connection.close();
    await server.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
