import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { startSession, SessionNotStartedError } from '../client/session';
import { loadConfig } from '../config';
import { sessionWorkflowId, type AgentSessionInput, type AgentSessionResult } from '../domain/session';
import { parseInput } from '../domain/validation';
import { AgentSessionInputSchema } from '../domain/session-schema';
import { loadSealer } from '../security/sealing';
import type { agentSession } from '../workflows/agent-session';
import { sessionStatusQuery, sessionStopNowSignal, sessionStopSignal } from '../workflows/messages';
import { connectClient, EXIT, parseNumber, taskQueue, UsageError } from './common';

interface StartFlags {
  provider: 'pipecat' | 'videosdk';
  key?: string;
  data?: string;
  dataFile?: string;
  tag?: string;
  daily?: boolean;
  transport?: string;
  maxDuration?: number;
  goodbyeLead?: number;
  wait?: boolean;
}

function readData(flags: StartFlags): Record<string, unknown> | undefined {
  if (flags.data !== undefined && flags.dataFile !== undefined) throw new UsageError('use --data or --data-file, not both');
  const text = flags.data ?? (flags.dataFile !== undefined ? readFileOr(flags.dataFile) : undefined);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${flags.data !== undefined ? '--data' : '--data-file'} is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError('session data must be a JSON object');
  return value as Record<string, unknown>;
}

function readFileOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --data-file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function resolveWorkflowId(id: string, provider: 'pipecat' | 'videosdk'): string {
  return id.startsWith('agent-session:') ? id : sessionWorkflowId(provider, id);
}

export function registerSessionCommands(program: Command): void {
  const session = program.command('session').description('Start, stop and list agent sessions');

  session
    .command('start')
    .description('Start a session and print what the caller needs to connect (room, token, socket)')
    .argument('<agent>', 'Pipecat agent name, or VideoSDK deployment id with --provider videosdk')
    .option('--provider <provider>', 'pipecat | videosdk', 'pipecat')
    .option('--key <sessionKey>', 'idempotency key (default: a new UUID); the same key never starts a second session')
    .option('--data <json>', 'session data: Pipecat `body` / VideoSDK `metaData`')
    .option('--data-file <file>', 'session data from a JSON file')
    .option('--tag <tag>', 'VideoSDK deployment tag')
    .option('--daily', 'Pipecat: create a Daily room')
    .option('--transport <t>', 'Pipecat: daily | webrtc | websocket')
    .option('--max-duration <sec>', 'stop the session after this long (default: the agent cap)', parseNumber('--max-duration', { integer: true }))
    .option('--goodbye-lead <sec>', 'say goodbye this long before the end (default 60)', parseNumber('--goodbye-lead', { integer: true }))
    .option('--wait', 'wait until the session has ended and print its result')
    .action(async (agent: string, flags: StartFlags) => {
      if (flags.provider !== 'pipecat' && flags.provider !== 'videosdk') throw new UsageError(`--provider must be pipecat or videosdk, got "${flags.provider}"`);
      const data = readData(flags);
      const input: AgentSessionInput = {
        provider: flags.provider,
        sessionKey: flags.key ?? randomUUID(),
        ...(flags.provider === 'pipecat'
          ? { agentName: agent, body: data, createDailyRoom: flags.daily, transport: flags.transport as AgentSessionInput['transport'] }
          : { deploymentId: agent, tag: flags.tag, metaData: data }),
        maxDurationSec: flags.maxDuration,
        goodbyeLeadSec: flags.goodbyeLead,
      };
      const clean = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as AgentSessionInput;
      parseInput(AgentSessionInputSchema, clean, 'session');
      const config = loadConfig(process.env);
      const { sealer } = loadSealer(config.encryptionKeys, config.temporal.dataDir);
      const { client, close } = await connectClient();
      try {
        const info = await startSession(client, clean, { taskQueue: taskQueue(), sealer });
        // The caller's credentials go to stdout only (never to logs).
        process.stdout.write(`${JSON.stringify({ sessionKey: clean.sessionKey, ...info }, null, 2)}\n`);
        if (flags.wait) {
          const result = await client.workflow.getHandle<typeof agentSession>(info.workflowId).result();
          process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        }
      } catch (err) {
        if (err instanceof SessionNotStartedError) {
          process.stderr.write(`vao: session not started (${err.reason}): ${err.message}\n`);
          process.exitCode = EXIT.failed;
          return;
        }
        throw err;
      } finally {
        await close();
      }
    });

  session
    .command('stop')
    .description('Stop a session: goodbye first, then stop (or at once with --now)')
    .argument('<id>', 'session key or workflow id')
    .option('--provider <provider>', 'pipecat | videosdk (with a session key)', 'pipecat')
    .option('--now', 'stop without a goodbye')
    .option('--wait', 'wait for the workflow to end and print its result')
    .action(async (id: string, flags: { provider: 'pipecat' | 'videosdk'; now?: boolean; wait?: boolean }) => {
      const { client, close } = await connectClient();
      try {
        const handle = client.workflow.getHandle<typeof agentSession>(resolveWorkflowId(id, flags.provider));
        await handle.signal(flags.now ? sessionStopNowSignal : sessionStopSignal);
        process.stderr.write(`Stop requested for ${handle.workflowId}${flags.now ? ' (now)' : ''}\n`);
        if (flags.wait) {
          const result: AgentSessionResult = await handle.result();
          process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        }
      } finally {
        await close();
      }
    });

  session
    .command('list')
    .description('List session workflows (running ones with their live state)')
    .option('--all', 'include ended sessions')
    .option('--limit <n>', 'at most this many', parseNumber('--limit', { integer: true }), 50)
    .option('--json', 'print JSON')
    .action(async (flags: { all?: boolean; limit: number; json?: boolean }) => {
      const { client, close } = await connectClient();
      try {
        const query = `WorkflowType = 'agentSession'${flags.all ? '' : " AND ExecutionStatus = 'Running'"}`;
        const rows: Array<Record<string, unknown>> = [];
        for await (const wf of client.workflow.list({ query })) {
          if (rows.length >= flags.limit) break;
          const row: Record<string, unknown> = { workflowId: wf.workflowId, status: wf.status.name, startTime: wf.startTime.toISOString() };
          if (wf.status.name === 'RUNNING') {
            const state = await client.workflow.getHandle(wf.workflowId).query(sessionStatusQuery).catch(() => null);
            if (state) Object.assign(row, { sessionId: state.sessionId, state: state.state, deadline: state.deadline });
          }
          rows.push(row);
        }
        if (flags.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else if (rows.length === 0) process.stdout.write('no sessions\n');
        else for (const r of rows) process.stdout.write(`${[r.workflowId, r.status, r.state ?? '', r.sessionId ?? '', r.deadline ?? ''].join('  ')}\n`);
      } finally {
        await close();
      }
    });
}
