import type { Command } from 'commander';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { DeployInProgressError, startDeploy, waitForRunningDeploy } from '../client/deploy';
import { DeployAgentInputSchema } from '../domain/deploy-schema';
import { deployWorkflowId, type DeployAgentInput, type DeployAgentResult, type DeployStatus } from '../domain/deploy';
import { InputError, parseInput } from '../domain/validation';
import { deployStatusQuery } from '../workflows/messages';
import { connectClient, EXIT, parseNumber, progressPrinter, taskQueue, UsageError } from './common';

interface DeployFlags {
  image: string;
  nodeType?: string;
  region?: string;
  secretSet?: string;
  imagePullSecretSet?: string;
  minAgents?: number;
  maxAgents?: number;
  agentProfile?: string;
  maxSessionDuration?: number;
  krispViva?: string;
  force?: boolean;
  readyTimeout?: number;
  pollInterval?: number;
  rollback: boolean;
  waitForRunning?: boolean;
  detach?: boolean;
  json?: boolean;
}

function describe(status: DeployStatus): string {
  const rev = status.lastRevision;
  const revision = rev ? ` · revision ${rev.phase ?? '?'}${rev.healthReason ? ` (${rev.healthReason})` : ''} ready=${rev.ready}` : '';
  const deploymentId = status.phase.includes('rollback') || status.phase === 'rolling-back' ? status.rollbackDeploymentId : status.deploymentId;
  return `${status.agentName}: ${status.phase}${deploymentId ? ` · deployment ${deploymentId.slice(0, 8)}` : ''}${revision} · ${status.polls} polls`;
}

export function inputFromFlags(agentName: string, flags: DeployFlags): DeployAgentInput {
  if (flags.krispViva !== undefined && !['tel', 'pro', 'off'].includes(flags.krispViva)) {
    throw new UsageError(`--krisp-viva must be tel, pro or off, got "${flags.krispViva}"`);
  }
  const autoScaling =
    flags.minAgents !== undefined || flags.maxAgents !== undefined
      ? { ...(flags.minAgents !== undefined ? { minAgents: flags.minAgents } : {}), ...(flags.maxAgents !== undefined ? { maxAgents: flags.maxAgents } : {}) }
      : undefined;
  const input: Record<string, unknown> = {
    agentName,
    image: flags.image,
    nodeType: flags.nodeType,
    region: flags.region,
    secretSet: flags.secretSet,
    imagePullSecretSet: flags.imagePullSecretSet,
    autoScaling,
    agentProfile: flags.agentProfile,
    maxSessionDuration: flags.maxSessionDuration,
    krispViva: flags.krispViva === undefined ? undefined : { audioFilter: flags.krispViva === 'off' ? null : flags.krispViva },
    forceRedeploy: flags.force || undefined,
    readyTimeoutSec: flags.readyTimeout,
    pollIntervalSec: flags.pollInterval,
    rollbackOnFailure: flags.rollback,
  };
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as DeployAgentInput;
}

function printResult(result: DeployAgentResult, json: boolean | undefined): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const lines = [
    `status:        ${result.status}`,
    `deployment:    ${result.deploymentId ?? '-'}`,
    `image:         ${result.image}${result.previousImage ? ` (was ${result.previousImage})` : ''}`,
    `action:        ${result.action ?? '-'}`,
    result.failure ? `failure:       ${result.failure.code}: ${result.failure.message}` : undefined,
    result.rollbackDeploymentId ? `rolled back:   deployment ${result.rollbackDeploymentId}` : undefined,
    result.warning ? `warning:       ${result.warning}` : undefined,
    `polls:         ${result.polls}`,
    `elapsed:       ${(result.elapsedMs / 1000).toFixed(1)} s`,
  ];
  process.stdout.write(`${lines.filter(Boolean).join('\n')}\n`);
}

export function registerDeployCommands(program: Command): void {
  program
    .command('deploy')
    .description('Deploy (create or update) a Pipecat Cloud agent and wait until the new deployment is live')
    .argument('<agent>', 'agent (service) name')
    .requiredOption('--image <image>', 'container image with tag, e.g. acme/bot:1.2')
    .option('--node-type <type>', 'node type (only arm)')
    .option('--region <region>', 'region for a new agent (e.g. us-west)')
    .option('--secret-set <name>', 'secret set to expose to the agent')
    .option('--image-pull-secret-set <name>', 'image pull secret set')
    .option('--min-agents <n>', 'minimum warm instances', parseNumber('--min-agents', { integer: true }))
    .option('--max-agents <n>', 'maximum instances (concurrent sessions)', parseNumber('--max-agents', { integer: true }))
    .option('--agent-profile <profile>', 'agent-1x | agent-2x | agent-3x')
    .option('--max-session-duration <sec>', 'hard session cap, 60-14400 s', parseNumber('--max-session-duration', { integer: true }))
    .option('--krisp-viva <filter>', 'tel | pro | off')
    .option('--force', 'create a new deployment even when nothing changed')
    .option('--ready-timeout <sec>', 'how long to wait for the deployment (default 600)', parseNumber('--ready-timeout'))
    .option('--poll-interval <sec>', 'poll interval (default 5)', parseNumber('--poll-interval'))
    .option('--no-rollback', 'do not roll back to the previous image on failure')
    .option('--wait-for-running', 'if a deploy of this agent is running, wait for it to end, then start')
    .option('--detach', 'start the workflow and return without waiting')
    .option('--json', 'print the result as JSON')
    .action(async (agent: string, flags: DeployFlags) => {
      const input = inputFromFlags(agent, flags);
      parseInput(DeployAgentInputSchema, input, 'deploy'); // bad input: exit 2 before connecting anywhere
      const { client, close } = await connectClient();
      try {
        let handle;
        for (;;) {
          try {
            handle = await startDeploy(client, input, { taskQueue: taskQueue() });
            break;
          } catch (err) {
            if (err instanceof DeployInProgressError && flags.waitForRunning) {
              process.stderr.write(`${err.message}; waiting for it to end\n`);
              await waitForRunningDeploy(client, agent);
              continue;
            }
            throw err;
          }
        }
        process.stderr.write(`Started ${handle.workflowId} (run ${handle.firstExecutionRunId})\n`);
        if (flags.detach) return;

        const progress = progressPrinter();
        const timer = setInterval(() => {
          handle
            .query(deployStatusQuery)
            .then((s) => progress.update(describe(s)))
            .catch(() => undefined);
        }, 1000);
        try {
          const result = await handle.result();
          progress.done();
          printResult(result, flags.json);
          if (result.status !== 'ready') {
            process.stderr.write(
              `vao: deploy of ${result.image} failed (${result.failure?.code ?? 'unknown'}: ${result.failure?.message ?? ''}); rolled back to ${result.previousImage}\n`,
            );
            process.exitCode = EXIT.failed;
          }
        } catch (err) {
          progress.done();
          if (err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure) {
            const [details] = (err.cause.details ?? []) as [DeployAgentResult | undefined];
            if (details && flags.json) printResult(details, true);
            process.stderr.write(`vao: ${err.cause.message}\n`);
            process.exitCode = EXIT.failed;
            return;
          }
          throw err;
        } finally {
          clearInterval(timer);
        }
      } finally {
        await close();
      }
    });

  program
    .command('deploy-status')
    .description('Show the phase of the running (or last) deploy of an agent')
    .argument('<agent>', 'agent name')
    .option('--json', 'print JSON')
    .action(async (agent: string, flags: { json?: boolean }) => {
      const { client, close } = await connectClient();
      try {
        const status = await client.workflow.getHandle(deployWorkflowId(agent)).query(deployStatusQuery);
        process.stdout.write(flags.json ? `${JSON.stringify(status, null, 2)}\n` : `${describe(status)}\n`);
      } finally {
        await close();
      }
    });
}

export { InputError };
