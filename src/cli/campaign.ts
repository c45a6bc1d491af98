import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Command } from 'commander';
import { readContacts } from '../campaign/contacts';
import { startCampaign } from '../client/campaign';
import { campaignWorkflowId, type CampaignInput, type CampaignProgress, type CampaignResult } from '../domain/campaign';
import { CampaignInputSchema } from '../domain/campaign-schema';
import { parseInput } from '../domain/validation';
import type { campaign } from '../workflows/campaign';
import { campaignCancelSignal, campaignPauseSignal, campaignProgressQuery, campaignResumeSignal } from '../workflows/messages';
import { connectClient, EXIT, parseNumber, progressPrinter, taskQueue, UsageError } from './common';

interface StartFlags {
  file: string;
  agent?: string;
  deployment?: string;
  provider: 'pipecat' | 'videosdk';
  id?: string;
  concurrency?: number;
  maxAttempts?: number;
  detach?: boolean;
  window?: string;
  days?: string;
  timezone?: string;
  dnc?: string;
  consentUrl?: string;
  results?: string;
  maxStartsPerSecond?: number;
}

const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** "mon-fri", "sat,sun" or "mon-wed,fri" → day names. */
export function parseDays(text: string): Array<(typeof DAY_NAMES)[number]> {
  const out = new Set<(typeof DAY_NAMES)[number]>();
  for (const part of text.toLowerCase().split(',')) {
    const [a, b] = part.trim().split('-') as [string, string | undefined];
    const from = DAY_NAMES.indexOf(a as never);
    const to = b === undefined ? from : DAY_NAMES.indexOf(b as never);
    if (from < 0 || to < 0 || to < from) throw new UsageError(`--days: "${part}" is not a day or range like mon-fri`);
    for (let i = from; i <= to; i++) out.add(DAY_NAMES[i]!);
  }
  return [...out];
}

export function describeProgress(p: CampaignProgress, width = 24): string {
  const done = p.completed + p.failed + p.skipped;
  const filled = p.total === 0 ? width : Math.round((done / p.total) * width);
  const state = p.cancelling ? ` cancelling (${p.cancelling})` : p.paused ? ' paused' : '';
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${p.total} done · ${p.live} live · ${p.completed} completed · ${p.failed} failed · ${p.skipped} skipped · ${p.retriesScheduled} retries${state}`;
}

export function registerCampaignCommands(program: Command): void {
  const cmd = program.command('campaign').description('Dial a list of contacts through agent sessions');

  cmd
    .command('start')
    .description('Start a campaign from a CSV or JSONL file (bad rows are reported by line and skipped)')
    .requiredOption('--file <file>', 'contacts: CSV with a header (contactId, phone, timeZone, …) or JSONL')
    .option('--agent <name>', 'Pipecat agent')
    .option('--deployment <id>', 'VideoSDK deployment id (with --provider videosdk)')
    .option('--provider <provider>', 'pipecat | videosdk', 'pipecat')
    .option('--id <campaignId>', 'campaign id (default: a new one); the same id never dials anyone twice')
    .option('--concurrency <n>', 'live calls at most (default 10)', parseNumber('--concurrency', { integer: true }))
    .option('--max-attempts <n>', 'attempts per contact (default 3)', parseNumber('--max-attempts', { integer: true }))
    .option('--window <HH:MM-HH:MM>', 'calling hours, in each contact\'s own time zone (timeZone column) or --timezone')
    .option('--days <days>', 'calling days with --window, e.g. mon-fri (default every day)')
    .option('--timezone <tz>', 'IANA time zone for contacts without one (default UTC)')
    .option('--dnc <file>', 'do-not-call list (phone numbers or contact ids, one per line), checked before each dial')
    .option('--consent-url <url>', 'consent webhook asked before each dial; no answer means no call')
    .option('--results <file>', 'append each contact\'s outcome to this JSONL or CSV file (on the worker)')
    .option('--max-starts-per-second <n>', 'start rate limit', parseNumber('--max-starts-per-second'))
    .option('--detach', 'start and return without showing progress')
    .action(async (flags: StartFlags) => {
      if (flags.provider === 'pipecat' && !flags.agent) throw new UsageError('--agent is required with provider pipecat');
      if (flags.provider === 'videosdk' && !flags.deployment) throw new UsageError('--deployment is required with provider videosdk');
      if ((flags.days || flags.timezone) && !flags.window) throw new UsageError('--days and --timezone need --window');
      const window = flags.window ? /^(\d\d:\d\d)-(\d\d:\d\d)$/.exec(flags.window) : null;
      if (flags.window && !window) throw new UsageError(`--window must look like 09:00-20:00, got "${flags.window}"`);
      let read;
      try {
        read = readContacts(flags.file);
      } catch (err) {
        throw new UsageError(`cannot read ${flags.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      for (const p of read.problems) process.stderr.write(`${flags.file}:${p.line}: skipped: ${p.reason}\n`);
      if (read.contacts.length === 0) throw new UsageError(`${flags.file} has no valid contacts`);
      const input: CampaignInput = {
        campaignId: flags.id ?? `c-${randomUUID().slice(0, 8)}`,
        provider: flags.provider,
        ...(flags.provider === 'pipecat' ? { agentName: flags.agent } : { deploymentId: flags.deployment }),
        contacts: read.contacts,
        ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
        ...(flags.maxAttempts !== undefined ? { retry: { maxAttempts: flags.maxAttempts } } : {}),
        ...(window
          ? { callWindow: { from: window[1]!, to: window[2]!, ...(flags.days ? { days: parseDays(flags.days) } : {}), ...(flags.timezone ? { timeZone: flags.timezone } : {}) } }
          : {}),
        ...(flags.dnc ? { doNotCall: { file: path.resolve(flags.dnc) } } : {}),
        ...(flags.consentUrl ? { consentWebhook: { url: flags.consentUrl } } : {}),
        ...(flags.results ? { results: { file: path.resolve(flags.results) } } : {}),
        ...(flags.maxStartsPerSecond !== undefined ? { maxStartsPerSecond: flags.maxStartsPerSecond } : {}),
      };
      // Past 1,000 rows the worker reads the file itself, in pages (it must see the same path).
      if (read.contacts.length > 1000) {
        delete input.contacts;
        input.contactsFile = { path: path.resolve(flags.file) };
      }
      parseInput(CampaignInputSchema, input, 'campaign');
      const { client, close } = await connectClient();
      try {
        const handle = await startCampaign(client, input, { taskQueue: taskQueue() });
        process.stderr.write(`Campaign ${input.campaignId}: ${read.contacts.length} contacts (workflow ${handle.workflowId})\n`);
        if (flags.detach) return;
        const progress = progressPrinter();
        const timer = setInterval(() => {
          handle
            .query(campaignProgressQuery)
            .then((p) => progress.update(describeProgress(p)))
            .catch(() => undefined);
        }, 1000);
        try {
          const result = await handle.result();
          progress.update(describeProgress(result.progress));
          progress.done();
          if (result.progress.failed > 0) process.exitCode = EXIT.failed;
        } finally {
          clearInterval(timer);
        }
      } finally {
        await close();
      }
    });

  const withCampaign = (name: string, description: string) => cmd.command(name).description(description).argument('<campaignId>', 'campaign id');

  withCampaign('status', 'Show progress').option('--json', 'print JSON').action(async (id: string, flags: { json?: boolean }) => {
    const { client, close } = await connectClient();
    try {
      const p = await client.workflow.getHandle(campaignWorkflowId(id)).query(campaignProgressQuery);
      process.stdout.write(flags.json ? `${JSON.stringify(p, null, 2)}\n` : `${describeProgress(p)}\n`);
    } finally {
      await close();
    }
  });
  for (const [name, signal, what] of [
    ['pause', campaignPauseSignal, 'Stop starting new calls (live calls go on)'],
    ['resume', campaignResumeSignal, 'Start calls again'],
  ] as const) {
    withCampaign(name, what).action(async (id: string) => {
      const { client, close } = await connectClient();
      try {
        await client.workflow.getHandle(campaignWorkflowId(id)).signal(signal);
        process.stderr.write(`${name} sent to campaign ${id}\n`);
      } finally {
        await close();
      }
    });
  }
  withCampaign('cancel', 'Cancel: let live calls finish, or stop them with --now')
    .option('--now', 'stop live calls immediately')
    .action(async (id: string, flags: { now?: boolean }) => {
      const { client, close } = await connectClient();
      try {
        await client.workflow.getHandle(campaignWorkflowId(id)).signal(campaignCancelSignal, { mode: flags.now ? 'immediate' : 'graceful' });
        process.stderr.write(`cancel (${flags.now ? 'immediate' : 'graceful'}) sent to campaign ${id}\n`);
      } finally {
        await close();
      }
    });
  withCampaign('results', 'Per-contact outcomes of a finished campaign (JSON lines)').action(async (id: string) => {
    const { client, close } = await connectClient();
    try {
      const result: CampaignResult = await client.workflow.getHandle<typeof campaign>(campaignWorkflowId(id)).result();
      for (const o of result.outcomes) process.stdout.write(`${JSON.stringify(o)}\n`);
    } finally {
      await close();
    }
  });
}
