/**
 * A campaign over a 100,000-contact file, in fast mode: every contact passes the do-not-call check right
 * before its dial, and all but one in `--dial-every` are on the list, so the run exercises paging,
 * per-contact checks, outcomes for every contact and continue-as-new at 100k scale in minutes, with real
 * calls (VideoSDK simulator) for the rest. Prints wall time, outcomes, runs (continue-as-new count), the
 * largest run's history and the worker's memory.
 *   npm run bench:campaign-scale [-- --contacts 100000 --dial-every 100]
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startCampaign } from '../src/client/campaign';
import { startVideoSdkSimulator } from '../src/simulators/videosdk';
import { freePort, resolveTemporalCli, startDevServer } from '../src/temporal/dev-server';
import { startWebhookReceiver } from '../src/webhooks/receiver';
import { spawnWorkerProcess, writeWorkflowBundle } from '../test/helpers/spawn-worker';
import { eventTimeMs, machineDescription } from './stats';

const { values: args } = parseArgs({
  options: {
    contacts: { type: 'string', default: '100000' },
    'dial-every': { type: 'string', default: '100' },
    capacity: { type: 'string', default: '50' },
  },
});
const N = Number(args.contacts);
const EVERY = Number(args['dial-every']);
const C = Number(args.capacity);

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const dir = mkdtempSync(path.join(tmpdir(), 'vao-scale-'));
  const server = await startDevServer({ cliPath: await resolveTemporalCli(process.env.TEMPORAL_CLI_PATH || undefined), port: await freePort(), uiPort: null });
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  const sim = await startVideoSdkSimulator({ seed: 3, capacity: C, queuedMs: 200, stoppingMs: 100, naturalDurationMs: { min: 1600, max: 2000 } });
  const receiver = await startWebhookReceiver({ client, publicKey: sim.publicKeyPem, logger: new DefaultLogger('ERROR') });
  const worker: ChildProcess = spawnWorkerProcess({
    temporalAddress: server.address,
    taskQueue: 'scale',
    bundlePath: await writeWorkflowBundle(dir),
    videosdk: { url: sim.url, apiKey: sim.apiKey, secret: sim.secret, webhookUrl: `${receiver.url}/webhooks/videosdk` },
    maxCachedWorkflows: 500,
  });
  const rssMb = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${worker.pid}/status`, 'utf8'))![1]) / 1024;
  let maxRss = 0;
  const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssMb())), 1000);

  try {
    const contacts = path.join(dir, 'contacts.jsonl');
    const dnc = path.join(dir, 'dnc.txt');
    writeFileSync(contacts, Array.from({ length: N }, (_, i) => JSON.stringify({ contactId: `c${i}`, phone: `+1555${String(i).padStart(7, '0')}` })).join('\n'));
    writeFileSync(dnc, Array.from({ length: N }, (_, i) => (i % EVERY === 0 ? null : `c${i}`)).filter(Boolean).join('\n'));
    const results = path.join(dir, 'results.jsonl');
    const t0 = Date.now();
    const handle = await startCampaign(
      client,
      {
        campaignId: 'scale',
        provider: 'videosdk',
        deploymentId: 'bench',
        agentCapacity: C,
        contactsFile: { path: contacts },
        doNotCall: { file: dnc },
        results: { file: results },
        session: { statusPollSec: 60, goodbye: { kind: 'none' }, startTimeoutSec: 600 },
      },
      { taskQueue: 'scale' },
    );
    const result = await handle.result();
    const wallS = (Date.now() - t0) / 1000;
    let runs = 0;
    let maxEvents = 0;
    for await (const run of client.workflow.list({ query: `WorkflowId = 'campaign:scale'` })) {
      runs++;
      maxEvents = Math.max(maxEvents, run.historyLength ?? 0);
      if (process.env.BENCH_DEBUG) {
        const h = await client.workflow.getHandle('campaign:scale', run.runId).fetchHistory();
        const counts: Record<string, number> = {};
        for (const e of h.events ?? []) counts[String(e.eventType)] = (counts[String(e.eventType)] ?? 0) + 1;
        const times = (h.events ?? []).map(eventTimeMs);
        process.stderr.write(`run ${run.runId.slice(0, 8)}: ${((times[times.length - 1]! - times[0]!) / 1000).toFixed(1)} s, events by type ${JSON.stringify(counts)}\n`);
      }
    }
    const resultLines = readFileSync(results, 'utf8').split('\n').filter(Boolean);
    const distinct = new Set(resultLines.map((l) => (JSON.parse(l) as { contactId: string }).contactId)).size;
    const lines = [
      `Campaign at scale — ${new Date().toISOString()}`,
      `Machine: ${machineDescription()}`,
      `${N} contacts from a JSONL file, ${N - Math.ceil(N / EVERY)} on the do-not-call list, ${Math.ceil(N / EVERY)} dialled (VideoSDK simulator, capacity ${C}, 1.6–2.0 s calls)`,
      `wall time ${wallS.toFixed(1)} s; ${result.progress.completed} completed, ${result.progress.failed} failed, ${result.progress.skipped} skipped; sessions on the platform ${sim.sessions().length}`,
      `results file: ${resultLines.length} lines, ${distinct} distinct contacts`,
      `campaign runs (continue-as-new + 1): ${runs}; largest run ${maxEvents} events; worker RSS max ${maxRss.toFixed(0)} MB`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    clearInterval(sampler);
    worker.kill('SIGTERM');
    await receiver.close();
    await sim.close();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`scale benchmark failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
