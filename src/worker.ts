import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Runtime, Worker, type WorkerPlugin, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from './activities';
import { ConfigError, loadConfig, type AppConfig } from './config';
import { createLogger, temporalLoggerFrom, type Logger } from './logging';
import { PipecatClient } from './providers/pipecat/client';
import { VideoSdkClient } from './providers/videosdk/client';
import { dataConverterFor } from './security/data-converter';
import { loadSealer, type Sealer } from './security/sealing';
import { startPipecatSimulator, type PipecatSimulator } from './simulators/pipecat';
import { startVideoSdkSimulator } from './simulators/videosdk';
import { startWebhookReceiver } from './webhooks/receiver';
import { resolveTemporalTarget } from './temporal/connection';
import { isPortFree, resolveTemporalCli, startDevServer, type DevServer } from './temporal/dev-server';
import { startRunningWorkflowSampler } from './ops/sampler';
import { governorWatchFrom } from './temporal/governor-watch';
import { ensureSessionIdSearchAttribute, sessionClaimsFrom } from './temporal/session-claims';
import type { SessionClaims } from './activities/session';
import { startOpsServer, type OpsServer } from './ops/server';
import { startTracing, type Tracing } from './ops/tracing';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: ReturnType<typeof createActivities>;
  /** A pre-built bundle (tests, production); without it the workflows are bundled at start-up. */
  workflowBundle?: WorkflowBundleOption;
  shutdownGraceMs?: number;
  maxCachedWorkflows?: number;
  maxConcurrentActivities?: number;
  dataConverter?: DataConverter;
  /** E.g. the OpenTelemetry plugin; its workflow interceptors need the workflows bundled here, not pre-built. */
  plugins?: WorkerPlugin[];
}

export const STICKY_QUEUE_TIMEOUT = '5 seconds';

export const WORKFLOWS_PATH = path.resolve(__dirname, 'workflows');

export function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    shutdownGraceTime: options.shutdownGraceMs ?? 30_000,
    dataConverter: options.dataConverter,
    plugins: options.plugins,
    // Each cached workflow costs ~0.3 MB; parked sessions need no cache, they are replayed when they wake.
    maxCachedWorkflows: options.maxCachedWorkflows ?? 250,
    // How long the server holds a cached workflow's task for this worker before any worker may take it:
    // after a crash, every workflow cached on the dead worker waits this long (SDK default 10 s).
    stickyQueueScheduleToStartTimeout: STICKY_QUEUE_TIMEOUT,
    // Activities here wait on HTTP or sleep between 429s, using no CPU: a start waiting for capacity
    // holds its slot, so the SDK's default of 100 would let a 429 storm starve status polls and stops.
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities ?? 500,
  });
}

/** Provider clients from configuration; the only place API keys are handed to code. */
export function createProviderDeps(
  config: AppConfig,
  sealer: Sealer,
  extra: { videosdkWebhookUrl?: string; sessionClaims?: SessionClaims; governorRunning?: ActivityDeps['governorRunning'] } = {},
): ActivityDeps {
  return {
    pipecat: new PipecatClient({
      apiUrl: config.pipecat.apiUrl,
      publicApiUrl: config.pipecat.publicApiUrl,
      privateApiKey: config.pipecat.privateApiKey,
      publicApiKey: config.pipecat.publicApiKey,
      timeoutMs: config.httpTimeoutMs,
    }),
    videosdk:
      config.videosdk.apiKey && config.videosdk.secret
        ? new VideoSdkClient({ apiUrl: config.videosdk.apiUrl, apiKey: config.videosdk.apiKey, secret: config.videosdk.secret, timeoutMs: config.httpTimeoutMs })
        : undefined,
    sealer,
    webhookSigningSecret: config.webhooks.signingSecret,
    videosdkWebhookUrl: extra.videosdkWebhookUrl,
    sessionClaims: extra.sessionClaims,
    governorRunning: extra.governorRunning,
    timeoutMs: config.httpTimeoutMs,
  };
}

export interface RunningWorker {
  config: AppConfig;
  worker: Worker;
  /** Resolves when the worker has shut down (after SIGINT/SIGTERM or `shutdown()`). */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * The main job: connect (or start the embedded dev server), start the simulators in sandbox mode,
 * and run the worker until a shutdown signal. Cleans up everything it started.
 */
export async function startWorkerProcess(
  env: NodeJS.ProcessEnv = process.env,
  logger: Logger = createLogger((env.VAO_LOG_LEVEL as never) ?? 'info'),
): Promise<RunningWorker> {
  let config = loadConfig(env);
  // Sandbox listens on loopback only; a deployed worker is reached by its orchestrator and scraper.
  const opsHost = config.sandbox ? '127.0.0.1' : '0.0.0.0';
  let metricsAddress: string | null = null;
  if (config.ops.metricsPort > 0) {
    if (await isPortFree(config.ops.metricsPort, opsHost)) {
      metricsAddress = `${opsHost}:${config.ops.metricsPort}`;
    } else if (config.sandbox) {
      logger.warn(`VAO_METRICS_PORT ${config.ops.metricsPort} is in use: metrics are off for this sandbox worker`);
    } else {
      throw new ConfigError([`VAO_METRICS_PORT ${config.ops.metricsPort} is already in use (0 turns metrics off)`]);
    }
  }
  const prometheus = metricsAddress && {
    bindAddress: metricsAddress,
    countersTotalSuffix: true,
    // Capacity waits run from milliseconds to the start timeout (600 s by default).
    histogramBucketOverrides: { vao_session_capacity_wait: [0, 100, 500, 1000, 5000, 15_000, 60_000, 300_000, 600_000] },
  };
  Runtime.install({
    logger: temporalLoggerFrom(logger),
    // One scrape target: the runtime's temporal_* metrics and our vao_* ones (emitted through the SDK's meter).
    ...(prometheus ? { telemetryOptions: { metrics: { prometheus } } } : {}),
  });
  if (metricsAddress) logger.info(`Prometheus metrics on http://${metricsAddress}/metrics`);

  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((err) => logger.warn('cleanup failed', { error: String(err) }));
    cleanups.length = 0;
  };

  try {
    // The encryption keys decide whether the codec endpoint exists; the dev server's Web UI is told about it.
    const dataConverter = dataConverterFor(config.encryptionKeys);
    let worker: Worker | undefined;
    let ops: OpsServer | undefined;
    // Outside loopback the codec endpoint decrypts only for a token or a verified login.
    const codecCodec = dataConverter?.payloadCodecs?.[0];
    const codecOn = Boolean(codecCodec && (config.ops.codecToken || config.ops.codecJwt || opsHost === '127.0.0.1'));
    if (config.ops.port > 0) {
      if (codecCodec && !codecOn) logger.info('Codec endpoint off: set VAO_CODEC_TOKEN or VAO_CODEC_JWKS_URL to let operators decrypt payloads');
      try {
        ops = await startOpsServer({
          host: opsHost,
          port: config.ops.port,
          logger,
          health: () => {
            const state = worker?.getState() ?? 'STARTING';
            return { healthy: state === 'RUNNING', details: { worker: state, taskQueue: config.temporal.taskQueue, sandbox: config.sandbox } };
          },
          codec: codecOn
            ? { codec: codecCodec!, token: config.ops.codecToken, jwt: config.ops.codecJwt, corsOrigins: config.ops.codecCorsOrigins }
            : undefined,
        });
        cleanups.push(() => ops!.close());
        logger.info(`Health on ${ops.url}/healthz${codecOn ? `, payload codec on ${ops.url}/codec` : ''}`);
      } catch (err) {
        if (!config.sandbox) throw new ConfigError([`VAO_OPS_PORT ${config.ops.port}: ${(err as Error).message} (0 turns it off)`]);
        logger.warn(`VAO_OPS_PORT ${config.ops.port} unavailable (${(err as Error).message}): no health or codec endpoint for this sandbox worker`);
      }
    }
    const codecEndpoint = ops && codecOn ? `${ops.url}/codec` : undefined;

    let devServer: DevServer | undefined;
    if (!config.temporal.address) {
      const cliPath = await resolveTemporalCli(config.temporal.cliPath);
      const dbFile = path.resolve(config.temporal.dataDir, 'temporal.sqlite');
      devServer = await startDevServer({
        cliPath,
        port: config.temporal.devServerPort,
        uiPort: config.temporal.devUiPort === 0 ? null : config.temporal.devUiPort,
        dbFile,
        namespace: config.temporal.namespace,
        uiCodecEndpoint: codecEndpoint,
      });
      cleanups.push(() => devServer!.stop());
      logger.info(`Embedded Temporal dev server on ${devServer.address} (state in ${dbFile})`, {
        address: devServer.address,
        webUi: devServer.uiUrl ?? 'off (port busy or disabled)',
      });
    }

    if (config.sandbox) {
      const sim: PipecatSimulator = await startPipecatSimulator({ port: config.simulatorPort });
      cleanups.push(() => sim.close());
      const vsdk = await startVideoSdkSimulator({});
      cleanups.push(() => vsdk.close());
      config = {
        ...config,
        pipecat: {
          apiUrl: sim.url,
          publicApiUrl: sim.publicUrl,
          privateApiKey: sim.privateApiKey,
          publicApiKey: sim.publicApiKey,
        },
        videosdk: { apiUrl: vsdk.url, apiKey: vsdk.apiKey, secret: vsdk.secret },
      };
      logger.warn(
        'SANDBOX MODE: no provider API keys are set, so the worker talks to the built-in Pipecat Cloud and VideoSDK simulators, not the real platforms',
        { pipecatApi: sim.url, pipecatAdmin: sim.adminUrl, videosdkApi: vsdk.url, videosdkAdmin: vsdk.adminUrl },
      );
    }

    const { sealer, source } = loadSealer(config.encryptionKeys, config.temporal.dataDir);
    if (source === 'local-file') {
      logger.warn(
        `VAO_ENCRYPTION_KEYS is not set: session tokens are sealed with a key kept in ${config.temporal.dataDir}/local-encryption.key; set VAO_ENCRYPTION_KEYS when clients run on other hosts`,
      );
    }

    if (!dataConverter) {
      const message =
        'PAYLOAD ENCRYPTION IS OFF: workflow inputs and results (session bodies, phone numbers) are stored in Temporal in plain text; set VAO_ENCRYPTION_KEYS=<id>:<base64 32 bytes> on workers and clients';
      if (config.sandbox) logger.warn(message);
      else logger.error(message);
    }

    const target = resolveTemporalTarget(devServer?.address ?? config.temporal.address, env);
    const connection = await NativeConnection.connect(target.connectionOptions);
    cleanups.push(() => connection.close());
    // Activities ask visibility which session ids other session workflows hold (ambiguous-start reconciliation).
    const workerClient = new Client({ connection, namespace: target.namespace });
    const sessionClaims = (await ensureSessionIdSearchAttribute(workerClient, target.namespace, logger)) ? sessionClaimsFrom(workerClient) : undefined;

    // VideoSDK reports session ends by webhook: receive them and signal the session workflows.
    let videosdkWebhookUrl: string | undefined;
    if (config.videosdk.apiKey && config.videosdk.secret) {
      const clientConnection = await Connection.connect(target.connectionOptions as Parameters<typeof Connection.connect>[0]);
      cleanups.push(() => clientConnection.close());
      const videosdk = new VideoSdkClient({ ...config.videosdk, timeoutMs: config.httpTimeoutMs });
      const receiver = await startWebhookReceiver({
        client: new Client({ connection: clientConnection, namespace: target.namespace, dataConverter }),
        publicKey: () => videosdk.fetchWebhookPublicKey(),
        host: config.sandbox ? '127.0.0.1' : '0.0.0.0',
        port: config.sandbox ? 0 : config.webhooks.port,
        logger,
      });
      cleanups.push(() => receiver.close());
      videosdkWebhookUrl = config.webhooks.publicUrl ? `${config.webhooks.publicUrl}/webhooks/videosdk` : `${receiver.url}/webhooks/videosdk`;
      logger.info(`VideoSDK webhook receiver on ${receiver.url}/webhooks/videosdk`, { registeredAs: videosdkWebhookUrl });
    }

    let tracing: Tracing | undefined;
    if (config.tracing) {
      tracing = startTracing({ serviceName: config.tracing.serviceName });
      cleanups.push(() => tracing!.shutdown());
      logger.info('OpenTelemetry tracing on (OTLP/HTTP)', { serviceName: config.tracing.serviceName });
      if (config.workflowBundlePath) logger.warn('Tracing needs its workflow interceptors in the bundle: bundling at start-up instead of using VAO_WORKFLOW_BUNDLE');
    }
    worker = await createWorker({
      connection,
      namespace: target.namespace,
      taskQueue: config.temporal.taskQueue,
      activities: createActivities(createProviderDeps(config, sealer, { videosdkWebhookUrl, sessionClaims, governorRunning: governorWatchFrom(workerClient) })),
      shutdownGraceMs: config.shutdownGraceMs,
      maxCachedWorkflows: config.maxCachedWorkflows,
      maxConcurrentActivities: config.maxConcurrentActivities,
      dataConverter,
      workflowBundle: config.workflowBundlePath && !tracing ? { codePath: config.workflowBundlePath } : undefined,
      plugins: tracing ? [tracing.plugin] : undefined,
    });
    logger.info(`Worker polling task queue "${config.temporal.taskQueue}"`, {
      namespace: target.namespace,
      temporal: String(target.connectionOptions.address ?? ''),
      sandbox: config.sandbox,
    });

    if (metricsAddress) {
      const stopSampler = startRunningWorkflowSampler({
        client: workerClient,
        meter: Runtime.instance().metricMeter,
        intervalMs: 15_000,
        logger,
      });
      cleanups.push(async () => stopSampler());
    }

    const running = worker;
    const done = running.run().finally(cleanup);
    return {
      config,
      worker: running,
      done,
      async shutdown() {
        running.shutdown();
        await done;
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
