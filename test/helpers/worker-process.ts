/** A worker in its own process (benchmarks, crash tests): a pre-built bundle, activities on the simulator. */

import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { PipecatClient } from '../../src/providers/pipecat/client';
import { VideoSdkClient } from '../../src/providers/videosdk/client';
import { Sealer } from '../../src/security/sealing';
import { governorWatchFrom } from '../../src/temporal/governor-watch';
import { sessionClaimsFrom } from '../../src/temporal/session-claims';
import { STICKY_QUEUE_TIMEOUT } from '../../src/worker';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const env = (name: string) => process.env[name] ?? (() => { throw new Error(`${name} is required`); })();
  // Pipecat is always wired (an unused address when the run is VideoSDK-only); VideoSDK when given.
  const httpTimeoutMs = Number(process.env.BENCH_HTTP_TIMEOUT_MS ?? '10000');
  const pipecatUrl = process.env.BENCH_PIPECAT_URL ?? 'http://127.0.0.1:9';
  const pipecat = new PipecatClient({
    apiUrl: pipecatUrl,
    publicApiUrl: `${pipecatUrl}/public`,
    privateApiKey: process.env.BENCH_PIPECAT_PRIVATE_KEY ?? 'unused',
    publicApiKey: process.env.BENCH_PIPECAT_PUBLIC_KEY ?? 'unused',
    timeoutMs: httpTimeoutMs,
  });
  const videosdk = process.env.BENCH_VIDEOSDK_URL
    ? new VideoSdkClient({ apiUrl: process.env.BENCH_VIDEOSDK_URL, apiKey: env('BENCH_VIDEOSDK_KEY'), secret: env('BENCH_VIDEOSDK_SECRET'), timeoutMs: httpTimeoutMs })
    : undefined;
  const sealer = new Sealer([{ id: 'bench', key: Buffer.from(env('BENCH_SEAL_KEY'), 'base64') }]);
  const connection = await NativeConnection.connect({ address: env('BENCH_TEMPORAL_ADDRESS') });
  const client = new Client({ connection });
  const sessionClaims = sessionClaimsFrom(client);
  const governorRunning = governorWatchFrom(client);
  const worker = await Worker.create({
    connection,
    taskQueue: env('BENCH_TASK_QUEUE'),
    workflowBundle: { codePath: env('BENCH_BUNDLE_PATH') },
    activities: createActivities({ pipecat, videosdk, sealer, videosdkWebhookUrl: process.env.BENCH_VIDEOSDK_WEBHOOK_URL, sessionClaims, governorRunning }),
    maxCachedWorkflows: Number(process.env.BENCH_MAX_CACHED ?? '2500'),
    stickyQueueScheduleToStartTimeout: STICKY_QUEUE_TIMEOUT,
  });
  setInterval(() => {
    const s = worker.getStatus();
    process.stdout.write(`${JSON.stringify({ inFlightActivities: s.numInFlightActivities, cached: s.numCachedWorkflows })}\n`);
  }, 1000).unref();
  process.once('SIGTERM', () => worker.shutdown());
  await worker.run();
}

main().catch((err) => {
  process.stderr.write(`bench worker failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
