import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { workflowBundle } from './temporal';

/** Where a worker process (worker-process.ts) finds Temporal and the provider APIs. */
export interface WorkerProcessTarget {
  temporalAddress: string;
  taskQueue: string;
  bundlePath: string;
  pipecat?: { url: string; privateApiKey: string; publicApiKey: string };
  videosdk?: { url: string; apiKey: string; secret: string; webhookUrl?: string };
  /** base64 of 32 bytes; random when absent. */
  sealKey?: string;
  maxCachedWorkflows?: number;
  httpTimeoutMs?: number;
  /** 'pipe' to read the worker's once-a-second status lines. */
  stdout?: 'ignore' | 'pipe';
}

/** The workflow bundle (the tests' one, built once per process), written where worker processes can load it. */
export async function writeWorkflowBundle(dir = mkdtempSync(path.join(tmpdir(), 'vao-bundle-'))): Promise<string> {
  const bundlePath = path.join(dir, 'workflows.js');
  writeFileSync(bundlePath, (await workflowBundle()).code);
  return bundlePath;
}

/** A worker in its own process, as in production: crash tests kill it, benchmarks measure it alone. */
export function spawnWorkerProcess(target: WorkerProcessTarget): ChildProcess {
  const env: Record<string, string | undefined> = {
    ...process.env,
    BENCH_TEMPORAL_ADDRESS: target.temporalAddress,
    BENCH_TASK_QUEUE: target.taskQueue,
    BENCH_BUNDLE_PATH: target.bundlePath,
    BENCH_SEAL_KEY: target.sealKey ?? randomBytes(32).toString('base64'),
    BENCH_PIPECAT_URL: target.pipecat?.url,
    BENCH_PIPECAT_PRIVATE_KEY: target.pipecat?.privateApiKey,
    BENCH_PIPECAT_PUBLIC_KEY: target.pipecat?.publicApiKey,
    BENCH_VIDEOSDK_URL: target.videosdk?.url,
    BENCH_VIDEOSDK_KEY: target.videosdk?.apiKey,
    BENCH_VIDEOSDK_SECRET: target.videosdk?.secret,
    BENCH_VIDEOSDK_WEBHOOK_URL: target.videosdk?.webhookUrl,
    BENCH_MAX_CACHED: target.maxCachedWorkflows !== undefined ? String(target.maxCachedWorkflows) : undefined,
    BENCH_HTTP_TIMEOUT_MS: target.httpTimeoutMs !== undefined ? String(target.httpTimeoutMs) : undefined,
  };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  // The same V8 young-generation size as `npm start` and the Docker image, so benchmarks measure what ships.
  return spawn(process.execPath, ['--max-semi-space-size=4', '--import', 'tsx', path.join(__dirname, 'worker-process.ts')], {
    env,
    stdio: ['ignore', target.stdout ?? 'ignore', 'inherit'],
  });
}
