/** A worker in its own process (benchmarks, crash tests): a pre-built bundle, activities on the simulator. */

import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { PipecatClient } from '../../src/providers/pipecat/client';
import { Sealer } from '../../src/security/sealing';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const env = (name: string) => process.env[name] ?? (() => { throw new Error(`${name} is required`); })();
  const pipecat = new PipecatClient({
    apiUrl: env('BENCH_PIPECAT_URL'),
    publicApiUrl: `${env('BENCH_PIPECAT_URL')}/public`,
    privateApiKey: env('BENCH_PIPECAT_PRIVATE_KEY'),
    publicApiKey: env('BENCH_PIPECAT_PUBLIC_KEY'),
    timeoutMs: 10_000,
  });
  const sealer = new Sealer([{ id: 'bench', key: Buffer.from(env('BENCH_SEAL_KEY'), 'base64') }]);
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address: env('BENCH_TEMPORAL_ADDRESS') }),
    taskQueue: env('BENCH_TASK_QUEUE'),
    workflowBundle: { codePath: env('BENCH_BUNDLE_PATH') },
    activities: createActivities({ pipecat, sealer }),
    maxCachedWorkflows: Number(process.env.BENCH_MAX_CACHED ?? '2500'),
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
