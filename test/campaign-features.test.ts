import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { startCampaign } from '../src/client/campaign';
import { createCampaignSchedule } from '../src/client/schedule';
import { campaignWorkflowId, governorWorkflowId, type ContactOutcome } from '../src/domain/campaign';
import type { PipecatSimulator } from '../src/simulators/pipecat';
import { fairShares } from '../src/workflows/capacity-governor';
import { campaignCancelSignal, campaignProgressQuery, governorStateQuery } from '../src/workflows/messages';
import { depsFor, maxConcurrent, pipecatClientFor, startSim } from './helpers/pipecat';
import { createTestEnv, uniqueTaskQueue, withWorker, workflowBundle } from './helpers/temporal';

let env: TestWorkflowEnvironment;
let sim: PipecatSimulator;
let hooks: Server;
let hooksUrl: string;
const received: Array<{ path: string; body: any; headers: Record<string, unknown> }> = [];
const dir = mkdtempSync(join(tmpdir(), 'vao-campaign-'));
let n = 0;

before(async () => {
  env = await createTestEnv();
  sim = await startSim({ timing: { reconcileDelayMs: 0, creatingMs: 0, validatingMs: 0 }, sessions: { naturalDurationMs: { min: 200, max: 300 } } });
  // One server plays the consent service and the results webhook.
  hooks = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const body = JSON.parse(text || 'null');
      received.push({ path: req.url!, body, headers: req.headers });
      if (req.url === '/consent') {
        if (body.contactId === 'consent-down') {
          res.writeHead(503).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ allow: body.contactId !== 'refused' }));
        return;
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  hooksUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}`;
});
after(async () => {
  hooks?.close();
  await sim?.close();
  await env?.teardown();
});

async function agent(maxAgents = 50, target = sim): Promise<string> {
  const name = `feat-${process.pid}-${++n}`;
  await pipecatClientFor(target).createAgent({ serviceName: name, image: 'acme/bot:1.0', autoScaling: { minAgents: 0, maxAgents } });
  await new Promise((r) => setTimeout(r, 20));
  return name;
}

/** A fixed-offset zone whose local time is about `hour` o'clock now. */
function zoneAtLocalHour(hour: number): string {
  let offset = (hour - new Date().getUTCHours() + 24) % 24;
  if (offset > 14) offset -= 24;
  // Etc/GMT signs are inverted: Etc/GMT-5 is UTC+5.
  return offset === 0 ? 'UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

const session = { statusPollSec: 0.2, goodbyeLeadSec: 5, graceSec: 1 };

describe('campaign features (real Temporal server + simulator)', () => {
  test('calling hours: a contact outside its local window waits instead of being dialled or dropped', async () => {
    const agentName = await agent();
    const taskQueue = uniqueTaskQueue('window');
    const callWindow = { from: '09:00', to: '16:00', timeZone: 'UTC' };
    const noon = zoneAtLocalHour(12);
    const night = zoneAtLocalHour(2);
    await withWorker(env, depsFor(sim), taskQueue, async () => {
      const handle = await startCampaign(
        env.client,
        {
          campaignId: `window-${process.pid}`,
          agentName,
          callWindow,
          session,
          contacts: [
            { contactId: 'day-1', timeZone: noon },
            { contactId: 'night-1', timeZone: night },
            { contactId: 'day-2', timeZone: noon },
          ],
        },
        { taskQueue },
      );
      for (let i = 0; i < 100; i++) {
        const p = await handle.query(campaignProgressQuery);
        if (p.completed === 2) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const progress = await handle.query(campaignProgressQuery);
      assert.equal(progress.completed, 2);
      assert.equal(progress.waitingForWindow, 1, 'the night-time contact waits for its morning');
      assert.deepEqual(sim.sessions(agentName).map((s) => (s.body as { contactId: string }).contactId).sort(), ['day-1', 'day-2']);
      await handle.signal(campaignCancelSignal, { mode: 'graceful' });
      const result = await handle.result();
      assert.equal(result.outcomes.find((o) => o.contactId === 'night-1')?.status, 'cancelled');
    });
  });

  test('do-not-call list and consent webhook run before each dial and fail closed', async () => {
    const agentName = await agent();
    const taskQueue = uniqueTaskQueue('dnc');
    const dnc = join(dir, 'dnc.csv');
    writeFileSync(dnc, 'phone\n+1 (555) 000-0002\nblocked-id\n');
    const result = await withWorker(env, depsFor(sim, { webhookSigningSecret: 'consent-secret' }), taskQueue, async () => {
      const handle = await startCampaign(
        env.client,
        {
          campaignId: `dnc-${process.pid}`,
          agentName,
          session,
          doNotCall: { file: dnc },
          consentWebhook: { url: `${hooksUrl}/consent`, timeoutMs: 1000 },
          contacts: [
            { contactId: 'ok', phone: '+15550000001' },
            { contactId: 'listed-phone', phone: '+15550000002' },
            { contactId: 'blocked-id', phone: '+15550000003' },
            { contactId: 'refused', phone: '+15550000004' },
            { contactId: 'consent-down', phone: '+15550000005' },
          ],
        },
        { taskQueue },
      );
      return handle.result();
    });
    const by = Object.fromEntries(result.outcomes.map((o) => [o.contactId, o]));
    assert.equal(by.ok!.status, 'completed');
    assert.deepEqual(
      ['listed-phone', 'blocked-id', 'refused', 'consent-down'].map((id) => [by[id]!.status, by[id]!.reason, by[id]!.attempts]),
      [
        ['skipped', 'do-not-call', 0],
        ['skipped', 'do-not-call', 0],
        ['skipped', 'no-consent', 0],
        ['skipped', 'consent-unavailable', 0],
      ],
    );
    assert.deepEqual(sim.sessions(agentName).map((s) => (s.body as { contactId: string }).contactId), ['ok']);
    const consent = received.filter((r) => r.path === '/consent');
    assert.ok(consent.every((r) => typeof r.headers['x-vao-signature'] === 'string'), 'consent requests are signed');
    assert.ok(!consent.some((r) => r.body.contactId === 'listed-phone'), 'do-not-call is checked first');
  });

  test('a campaign checking every dial against a do-not-call list replays deterministically', async () => {
    // Checks are local activities and child starts run beside the loop: the history must replay command for
    // command, or a worker that loses its cache (a restart, a continue-as-new retried) fails the campaign.
    const agentName = await agent(4);
    const taskQueue = uniqueTaskQueue('dnc-replay');
    const dnc = join(dir, 'dnc-replay.csv');
    const contacts = Array.from({ length: 120 }, (_, i) => ({ contactId: `r${i}`, phone: `+1555100${String(i).padStart(4, '0')}` }));
    writeFileSync(dnc, ['phone', ...contacts.filter((_, i) => i % 4 !== 0).map((c) => c.phone)].join('\n'));
    const handle = await withWorker(env, depsFor(sim), taskQueue, async () => {
      const h = await startCampaign(env.client, { campaignId: `dnc-replay-${process.pid}`, agentName, session, concurrency: 4, doNotCall: { file: dnc }, contacts }, { taskQueue });
      const result = await h.result();
      assert.deepEqual([result.progress.completed, result.progress.skipped], [30, 90]);
      return h;
    });
    const history = await handle.fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, handle.workflowId);
  });

  test('contacts from a CSV file in pages; bad rows reported by line; every outcome once in the results file and webhook', async () => {
    const agentName = await agent();
    const taskQueue = uniqueTaskQueue('file');
    const file = join(dir, 'contacts.csv');
    const rows = ['contactId,phone,name'];
    for (let i = 0; i < 25; i++) rows.push(i === 7 ? 'bad id!,+1555,"Broken"' : `c${i},+1555000${1000 + i},"Name, ${i}"`);
    writeFileSync(file, `${rows.join('\n')}\n`);
    const resultsFile = join(dir, 'results.jsonl');
    const campaignId = `file-${process.pid}`;
    const result = await withWorker(env, depsFor(sim), taskQueue, async () => {
      const handle = await startCampaign(
        env.client,
        {
          campaignId,
          agentName,
          session,
          concurrency: 4,
          pageSize: 10,
          contactsFile: { path: file },
          results: { file: resultsFile, webhookUrl: `${hooksUrl}/results` },
          continueAsNewAfterEvents: 120,
        },
        { taskQueue },
      );
      return handle.result();
    });
    assert.equal(result.progress.total, 25);
    assert.equal(result.progress.completed, 24);
    assert.equal(result.progress.skipped, 1);
    assert.deepEqual(result.outcomes, [], 'file campaigns keep outcomes in the sink, not in the result');
    const lines = readFileSync(resultsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ContactOutcome & { batch: string });
    assert.equal(lines.length, 25, 'one line per contact');
    assert.equal(new Set(lines.map((l) => l.contactId)).size, 25);
    const bad = lines.find((l) => l.status === 'skipped')!;
    assert.equal(bad.line, 9, 'the bad row is reported with its file line');
    assert.match(bad.reason!, /invalid-row/);
    const sessions = sim.sessions(agentName);
    assert.equal(sessions.length, 24);
    assert.equal((sessions.find((s) => (s.body as { contactId: string }).contactId === 'c3')!.body as { name: string }).name, 'Name, 3');
    const posted = received.filter((r) => r.path === '/results' && r.body.campaignId === campaignId);
    assert.equal(posted.flatMap((r) => r.body.outcomes).length, 25, 'the webhook got every outcome once');
    assert.ok(posted.every((r) => r.headers['idempotency-key'] === r.body.batch));
  });

  test('two campaigns on one agent share its capacity through the governor: never above it, no 429 storm, fair shares', async () => {
    const shared = await startSim({ timing: { reconcileDelayMs: 0, creatingMs: 0, validatingMs: 0 }, sessions: { naturalDurationMs: { min: 250, max: 350 } } });
    try {
      const agentName = await agent(4, shared);
      const taskQueue = uniqueTaskQueue('governor');
      const contacts = (p: string) => Array.from({ length: 60 }, (_, i) => ({ contactId: `${p}${i}` }));
      await withWorker(env, depsFor(shared), taskQueue, async () => {
        const a = await startCampaign(env.client, { campaignId: `gov-a-${process.pid}`, agentName, session, contacts: contacts('a') }, { taskQueue });
        await new Promise((r) => setTimeout(r, 700));
        const b = await startCampaign(env.client, { campaignId: `gov-b-${process.pid}`, agentName, session, contacts: contacts('b') }, { taskQueue });
        // Watch the governor for as long as both campaigns run (a loaded CI machine can be slow to start b).
        let sawFairSplit = false;
        const views: string[] = [];
        const running = async (h: typeof a) => (await h.describe()).status.name === 'RUNNING';
        while (!sawFairSplit && (await running(a)) && (await running(b))) {
          const view = await env.client.workflow.getHandle(governorWorkflowId('pipecat', agentName)).query(governorStateQuery);
          const grants = Object.values(view.holders).map((h) => h.grant);
          // Both want all 4 slots: max-min fairness gives each exactly 2.
          sawFairSplit = grants.length === 2 && grants.every((g) => g === 2);
          views.push(JSON.stringify(view.holders));
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.ok(sawFairSplit, `the governor split capacity 4 as 2 + 2 between the two campaigns; saw ${views.slice(-5).join(' ')}`);
        const [ra, rb] = await Promise.all([a.result(), b.result()]);
        assert.equal(ra.progress.completed + rb.progress.completed, 120);
      });
      const sessions = shared.sessions(agentName);
      assert.equal(sessions.length, 120);
      assert.ok(maxConcurrent(sessions) <= 4, `at most 4 live at once, saw ${maxConcurrent(sessions)}`);
      const stats = shared.sessionStats();
      assert.ok(stats.rejectedAtCapacity <= 2, `429s: ${stats.rejectedAtCapacity} of ${stats.started + stats.rejectedAtCapacity} starts`);
    } finally {
      await shared.close();
    }
  });

  test('fair shares are max-min fair and never exceed what is available', () => {
    assert.deepEqual(fairShares(50, { a: 50, b: 50 }), { a: 25, b: 25 });
    assert.deepEqual(fairShares(50, { a: 10, b: 50, c: 50 }), { a: 10, b: 20, c: 20 });
    assert.deepEqual(fairShares(5, { a: 3, b: 3 }), { a: 3, b: 2 });
    assert.deepEqual(fairShares(0, { a: 3 }), { a: 0 });
  });

  test('a schedule starts the campaign; each run dials under its own campaign id', async () => {
    const agentName = await agent();
    const taskQueue = uniqueTaskQueue('schedule');
    const scheduleId = `sched-${process.pid}`;
    const campaignId = `nightly-${process.pid}`;
    await withWorker(env, depsFor(sim), taskQueue, async () => {
      const schedule = await createCampaignSchedule(env.client, {
        scheduleId,
        every: '1h',
        campaign: { campaignId, agentName, session, contacts: [{ contactId: 'x' }, { contactId: 'y' }] },
        taskQueue,
      });
      try {
        await schedule.trigger();
        let workflowId: string | undefined;
        for (let i = 0; i < 50 && !workflowId; i++) {
          const d = await schedule.describe();
          workflowId = d.info.recentActions[0]?.action.workflow.workflowId ?? d.info.runningActions[0]?.workflow.workflowId;
          if (!workflowId) await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(workflowId?.startsWith(`${campaignWorkflowId(campaignId)}-`), `scheduled run id ${workflowId}`);
        const result = await env.client.workflow.getHandle(workflowId!).result();
        assert.equal(result.progress.completed, 2);
        assert.equal(result.campaignId, workflowId!.slice('campaign:'.length));
        // An hourly schedule may also fire on its own during the test (at the top of the hour): that run has its own keys.
        const all = sim.sessions(agentName).map((s) => (s.body as { vaoSessionKey: string }).vaoSessionKey);
        assert.ok(all.every((k) => k.startsWith(`${campaignId}-`)), all.join());
        const keys = all.filter((k) => k.startsWith(`${result.campaignId}.`));
        assert.deepEqual(keys.sort(), [`${result.campaignId}.x.1`, `${result.campaignId}.y.1`]);
      } finally {
        await schedule.delete();
      }
    });
  });
});
