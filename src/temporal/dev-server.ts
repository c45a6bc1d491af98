import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { SESSION_ID_SEARCH_ATTRIBUTE_NAME } from '../domain/session';

const ENSURE_SCRIPT = path.resolve(__dirname, '../../scripts/ensure-temporal-cli.sh');
/** See the transfer-queue note in startDevServer. */
const DEV_TRANSFER_QUEUE_POLLS_PER_SECOND = 50;

/**
 * The path of the Temporal CLI: `TEMPORAL_CLI_PATH`, else the project's cached build, building it
 * from the Go module proxy the first time (minutes; progress goes to stderr).
 */
export async function resolveTemporalCli(explicitPath?: string): Promise<string> {
  const child = spawn('bash', [ENSURE_SCRIPT], {
    env: { ...process.env, ...(explicitPath ? { TEMPORAL_CLI_PATH: explicitPath } : {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`could not get the Temporal CLI (scripts/ensure-temporal-cli.sh exited ${code})`);
  return out.trim().split('\n').pop()!;
}

export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface DevServerOptions {
  cliPath: string;
  port: number;
  /** Web UI port; null runs headless. */
  uiPort: number | null;
  /** SQLite file keeping workflows across restarts; omitted keeps everything in memory. */
  dbFile?: string;
  ip?: string;
  namespace?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  readyTimeoutMs?: number;
  /** Remote payload codec the Web UI calls to show encrypted payloads. */
  uiCodecEndpoint?: string;
}

export interface DevServer {
  address: string;
  uiUrl: string | null;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `temporal server start-dev` and resolves once its frontend answers health checks. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const address = `${ip}:${options.port}`;
  if (!(await isPortFree(options.port, ip))) {
    throw new Error(
      `port ${options.port} is already in use; set TEMPORAL_ADDRESS=${address} to use the server there, or VAO_DEV_SERVER_PORT to another port`,
    );
  }
  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(options.port),
    '--log-level',
    options.logLevel ?? 'warn',
    '--log-format',
    'pretty',
    '--dynamic-config-value',
    'frontend.enableUpdateWorkflowExecution=true',
    '--dynamic-config-value',
    'frontend.workerVersioningWorkflowAPIs=true',
    // One partition per task queue: with the default four, a task landing on a partition without a
    // waiting poller is forwarded after a delay, which adds ~200 ms to every hop on a single-worker setup.
    '--dynamic-config-value',
    'matching.numTaskqueueReadPartitions=1',
    '--dynamic-config-value',
    'matching.numTaskqueueWritePartitions=1',
    // Eager activity dispatch: an activity scheduled by a workflow task comes back in the same response
    // to the worker that completed it, one matching hop less (a session start's activity, above all).
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
    // The dev server has one history shard, and its transfer queue (which hands every new workflow task,
    // activity task and signal to matching) is read at most 20 times a second per shard by default: every
    // hop waited up to 50 ms, and back-to-back session starts took 100 ms. Production clusters spread this
    // over hundreds of shards. 50 polls a second took the start overhead from ~100 to 31–42 ms (bench:sessions); 1,000 made the
    // reader poll SQLite so often that the campaign benchmark lost more to CPU than it won in latency.
    '--dynamic-config-value',
    `history.transferProcessorMaxPollRPS=${DEV_TRANSFER_QUEUE_POLLS_PER_SECOND}`,
    // Session workflows record their platform session id here (see src/temporal/session-claims.ts).
    '--search-attribute',
    `${SESSION_ID_SEARCH_ATTRIBUTE_NAME}=Keyword`,
  ];
  if (options.namespace && options.namespace !== 'default') args.push('--namespace', options.namespace);
  if (options.dbFile) {
    mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  let uiUrl: string | null = null;
  if (options.uiPort !== null && (await isPortFree(options.uiPort, ip))) {
    args.push('--ui-port', String(options.uiPort));
    if (options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
    uiUrl = `http://${ip}:${options.uiPort}`;
  } else {
    args.push('--headless');
  }

  const child = spawn(options.cliPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (exited !== undefined) throw new Error(`temporal dev server exited with code ${exited}: ${stderr.trim()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`temporal dev server did not answer on ${address} in time: ${stderr.trim()}`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
        break;
      } finally {
        await connection.close();
      }
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  return {
    address,
    uiUrl,
    process: child,
    async stop() {
      if (exited !== undefined) return;
      const done = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(timer);
    },
  };
}
