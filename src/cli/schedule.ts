import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ScheduleNotFoundError } from '@temporalio/client';
import { createCampaignSchedule } from '../client/schedule';
import type { CampaignInput } from '../domain/campaign';
import { connectClient, taskQueue, UsageError } from './common';

const OVERLAP = { skip: 'SKIP', 'buffer-one': 'BUFFER_ONE', 'buffer-all': 'BUFFER_ALL', 'cancel-other': 'CANCEL_OTHER', 'allow-all': 'ALLOW_ALL' } as const;

function readCampaign(file: string): CampaignInput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --campaign-file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return JSON.parse(text) as CampaignInput;
  } catch (err) {
    throw new UsageError(`--campaign-file ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

export function registerScheduleCommands(program: Command): void {
  const cmd = program.command('schedule').description('Scheduled batch calls (Temporal Schedules that start campaigns)');

  cmd
    .command('create')
    .argument('<scheduleId>', 'schedule id')
    .requiredOption('--campaign-file <file>', 'campaign input as JSON (campaignId, agentName, contacts, …)')
    .option('--cron <expr>', 'cron expression, e.g. "0 10 * * MON-FRI"')
    .option('--every <interval>', 'interval, e.g. 24h')
    .option('--timezone <tz>', 'IANA time zone of the cron expression (default UTC)')
    .option('--overlap <policy>', 'skip | buffer-one | buffer-all | cancel-other | allow-all', 'skip')
    .option('--catchup <window>', 'how late a missed run may still start, e.g. 1h', '1h')
    .action(async (id: string, flags: { campaignFile: string; cron?: string; every?: string; timezone?: string; overlap: string; catchup: string }) => {
      if (Boolean(flags.cron) === Boolean(flags.every)) throw new UsageError('give exactly one of --cron or --every');
      const overlap = OVERLAP[flags.overlap as keyof typeof OVERLAP];
      if (!overlap) throw new UsageError(`--overlap must be one of ${Object.keys(OVERLAP).join(', ')}`);
      if (flags.every && !/^\d+(ms|s|m|h|d)$/.test(flags.every)) throw new UsageError(`--every must look like 30m, 24h or 7d, got "${flags.every}"`);
      const campaign = readCampaign(flags.campaignFile);
      const { client, close } = await connectClient();
      try {
        await createCampaignSchedule(client, {
          scheduleId: id,
          cron: flags.cron,
          every: flags.every,
          timeZone: flags.timezone,
          overlap,
          catchupWindow: flags.catchup,
          campaign,
          taskQueue: taskQueue(),
        });
        process.stderr.write(`Schedule ${id} created\n`);
      } finally {
        await close();
      }
    });

  cmd.command('list').action(async () => {
    const { client, close } = await connectClient();
    try {
      for await (const s of client.schedule.list()) {
        process.stdout.write(`${s.scheduleId}  ${s.state.paused ? 'paused' : 'active'}  next: ${s.info.nextActionTimes[0]?.toISOString() ?? '-'}\n`);
      }
    } finally {
      await close();
    }
  });

  for (const [name, run] of [
    ['pause', (h: ReturnType<Awaited<ReturnType<typeof connectClient>>['client']['schedule']['getHandle']>) => h.pause('paused with vao')],
    ['unpause', (h: ReturnType<Awaited<ReturnType<typeof connectClient>>['client']['schedule']['getHandle']>) => h.unpause('unpaused with vao')],
    ['trigger', (h: ReturnType<Awaited<ReturnType<typeof connectClient>>['client']['schedule']['getHandle']>) => h.trigger()],
    ['delete', (h: ReturnType<Awaited<ReturnType<typeof connectClient>>['client']['schedule']['getHandle']>) => h.delete()],
  ] as const) {
    cmd
      .command(name)
      .argument('<scheduleId>', 'schedule id')
      .action(async (id: string) => {
        const { client, close } = await connectClient();
        try {
          await run(client.schedule.getHandle(id));
          process.stderr.write(`Schedule ${id}: ${name} done\n`);
        } catch (err) {
          if (err instanceof ScheduleNotFoundError) throw new UsageError(`no schedule ${id}`);
          throw err;
        } finally {
          await close();
        }
      });
  }
}
