import { existsSync } from 'node:fs';
import { z } from 'zod';
import { parseKeyRing } from './security/sealing';

/**
 * The one place where process settings are read and validated. Everything else receives a typed
 * `AppConfig`; nothing else touches `process.env` for provider settings.
 */

const url = (name: string) =>
  z
    .string()
    .trim()
    .refine((value) => /^https?:\/\//.test(value) && URL.canParse(value), {
      message: `${name} must be an http(s) URL`,
    })
    .transform((value) => value.replace(/\/+$/, ''));

const optionalSecret = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value ? value : undefined));

const integer = (name: string, min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .pipe(z.number().int().min(min, `${name} must be >= ${min}`).max(max, `${name} must be <= ${max}`));

/** Every environment variable the project reads, with its default. The README's table mirrors it. */
export const ENV_SCHEMA = z.object({
  TEMPORAL_ADDRESS: z.string().trim().optional(),
  TEMPORAL_NAMESPACE: z.string().trim().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().trim().min(1, 'TEMPORAL_TASK_QUEUE must not be empty').default('voice-agents'),
  TEMPORAL_CLI_PATH: z.string().trim().optional(),
  VAO_DATA_DIR: z.string().trim().min(1).default('.vao'),
  VAO_DEV_SERVER_PORT: integer('VAO_DEV_SERVER_PORT', 1, 65535).default(7233),
  VAO_DEV_UI_PORT: integer('VAO_DEV_UI_PORT', 0, 65535).default(8233),
  VAO_SANDBOX: z.enum(['auto', 'on', 'off'], { message: 'VAO_SANDBOX must be auto, on or off' }).default('auto'),
  VAO_SIMULATOR_PORT: integer('VAO_SIMULATOR_PORT', 0, 65535).default(0),
  VAO_HTTP_TIMEOUT_MS: integer('VAO_HTTP_TIMEOUT_MS', 100, 600_000).default(15_000),
  VAO_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error'], { message: 'VAO_LOG_LEVEL must be debug, info, warn or error' }).default('info'),
  VAO_SHUTDOWN_GRACE_MS: integer('VAO_SHUTDOWN_GRACE_MS', 0, 3_600_000).default(30_000),
  VAO_MAX_CACHED_WORKFLOWS: integer('VAO_MAX_CACHED_WORKFLOWS', 0, 1_000_000).default(250),
  VAO_MAX_CONCURRENT_ACTIVITIES: integer('VAO_MAX_CONCURRENT_ACTIVITIES', 1, 100_000).default(500),
  PIPECAT_API_URL: url('PIPECAT_API_URL').default('https://api.pipecat.daily.co/v1'),
  PIPECAT_PRIVATE_API_KEY: optionalSecret,
  PIPECAT_PUBLIC_API_KEY: optionalSecret,
  VIDEOSDK_API_URL: url('VIDEOSDK_API_URL').default('https://api.videosdk.live'),
  VIDEOSDK_API_KEY: optionalSecret,
  VIDEOSDK_SECRET: optionalSecret,
  VAO_ENCRYPTION_KEYS: optionalSecret,
  VAO_WEBHOOK_SECRET: optionalSecret,
  VAO_WEBHOOK_PORT: integer('VAO_WEBHOOK_PORT', 0, 65535).default(8788),
  VAO_WEBHOOK_PUBLIC_URL: url('VAO_WEBHOOK_PUBLIC_URL').optional(),
  VAO_METRICS_PORT: integer('VAO_METRICS_PORT', 0, 65535).default(9464),
  VAO_OPS_PORT: integer('VAO_OPS_PORT', 0, 65535).default(8789),
  VAO_CODEC_TOKEN: optionalSecret,
  VAO_CODEC_JWKS_URL: url('VAO_CODEC_JWKS_URL').optional(),
  VAO_CODEC_JWT_ISSUER: z.string().trim().optional(),
  VAO_CODEC_JWT_AUDIENCE: z.string().trim().optional(),
  VAO_CODEC_CORS_ORIGINS: z
    .string()
    .trim()
    .default('http://localhost:8233,http://127.0.0.1:8233,http://localhost:8080')
    .transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean))
    .refine((origins) => origins.every((o) => /^https?:\/\/[^/]+$/.test(o)), {
      message: 'VAO_CODEC_CORS_ORIGINS must be a comma-separated list of origins like https://ui.example.com (no path)',
    }),
  VAO_WORKFLOW_BUNDLE: z.string().trim().optional(),
  // Standard OpenTelemetry variables: setting an OTLP endpoint turns tracing on.
  OTEL_EXPORTER_OTLP_ENDPOINT: url('OTEL_EXPORTER_OTLP_ENDPOINT').optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT').optional(),
  OTEL_SERVICE_NAME: z.string().trim().min(1).default('voice-agent-orchestrator'),
});

export type EnvSettings = z.infer<typeof ENV_SCHEMA>;

export interface PipecatSettings {
  apiUrl: string;
  /** `{apiUrl}/public`, where session starts and the session proxy live. */
  publicApiUrl: string;
  privateApiKey?: string;
  publicApiKey?: string;
}

export interface VideoSdkSettings {
  apiUrl: string;
  apiKey?: string;
  secret?: string;
}

export interface AppConfig {
  temporal: {
    /** Undefined: start the embedded dev server. */
    address?: string;
    namespace: string;
    taskQueue: string;
    cliPath?: string;
    dataDir: string;
    devServerPort: number;
    devUiPort: number;
  };
  /** True when the provider APIs are the in-process simulators rather than the real platforms. */
  sandbox: boolean;
  simulatorPort: number;
  httpTimeoutMs: number;
  logLevel: EnvSettings['VAO_LOG_LEVEL'];
  shutdownGraceMs: number;
  /** Workflows kept in the worker's sticky cache; others are replayed from history when they wake. */
  maxCachedWorkflows: number;
  /** Activity slots: session starts hold one while they wait out 429s, so this is well above the SDK's 100. */
  maxConcurrentActivities: number;
  pipecat: PipecatSettings;
  videosdk: VideoSdkSettings;
  /** `id:base64key,…` newest first; unset: a local key file in the data folder. */
  encryptionKeys?: string;
  ops: {
    /** Prometheus scrape port of the Temporal runtime, which also carries our vao_* metrics (0: off). */
    metricsPort: number;
    /** /healthz and the remote payload codec (0: off). */
    port: number;
    codecToken?: string;
    /** Verify the Web UI's forwarded OIDC access tokens against this JWKS. */
    codecJwt?: { jwksUrl: string; issuer?: string; audience?: string };
    codecCorsOrigins: string[];
  };
  /** A workflow bundle built by `npm run build:bundle`; without it the worker bundles at start-up. */
  workflowBundlePath?: string;
  /** OpenTelemetry tracing (OTLP/HTTP, endpoint from the standard OTEL_* variables); undefined: off. */
  tracing?: { serviceName: string };
  webhooks: {
    /** HMAC secret for goodbye webhooks we send. */
    signingSecret?: string;
    /** Port of the receiver for provider webhooks (0: random). */
    port: number;
    /** URL the provider should call, when the receiver is behind a proxy. */
    publicUrl?: string;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  // Empty strings behave like unset variables, as most shells and compose files produce them.
  const cleaned = Object.fromEntries(
    Object.keys(ENV_SCHEMA.shape).map((key) => [key, env[key] === '' ? undefined : env[key]]),
  );
  const parsed = ENV_SCHEMA.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = String(issue.path[0] ?? '');
        return issue.message.startsWith(key) ? issue.message : `${key}: ${issue.message}`;
      }),
    );
  }
  const s = parsed.data;
  const hasProviderKeys = Boolean(
    s.PIPECAT_PRIVATE_API_KEY || s.PIPECAT_PUBLIC_API_KEY || s.VIDEOSDK_API_KEY || s.VIDEOSDK_SECRET,
  );
  const sandbox = s.VAO_SANDBOX === 'on' || (s.VAO_SANDBOX === 'auto' && !hasProviderKeys);
  const problems: string[] = [];
  if (s.VIDEOSDK_API_KEY && !s.VIDEOSDK_SECRET) problems.push('VIDEOSDK_SECRET is required when VIDEOSDK_API_KEY is set');
  if (s.VIDEOSDK_SECRET && !s.VIDEOSDK_API_KEY) problems.push('VIDEOSDK_API_KEY is required when VIDEOSDK_SECRET is set');
  if (s.VAO_ENCRYPTION_KEYS) {
    try {
      parseKeyRing(s.VAO_ENCRYPTION_KEYS);
    } catch (err) {
      problems.push(`VAO_ENCRYPTION_KEYS: ${(err as Error).message}`);
    }
  }
  if (s.VAO_WORKFLOW_BUNDLE && !existsSync(s.VAO_WORKFLOW_BUNDLE)) {
    problems.push(`VAO_WORKFLOW_BUNDLE: no file at ${s.VAO_WORKFLOW_BUNDLE} (build it with npm run build:bundle)`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    temporal: {
      address: s.TEMPORAL_ADDRESS || undefined,
      namespace: s.TEMPORAL_NAMESPACE,
      taskQueue: s.TEMPORAL_TASK_QUEUE,
      cliPath: s.TEMPORAL_CLI_PATH || undefined,
      dataDir: s.VAO_DATA_DIR,
      devServerPort: s.VAO_DEV_SERVER_PORT,
      devUiPort: s.VAO_DEV_UI_PORT,
    },
    sandbox,
    simulatorPort: s.VAO_SIMULATOR_PORT,
    httpTimeoutMs: s.VAO_HTTP_TIMEOUT_MS,
    logLevel: s.VAO_LOG_LEVEL,
    shutdownGraceMs: s.VAO_SHUTDOWN_GRACE_MS,
    maxCachedWorkflows: s.VAO_MAX_CACHED_WORKFLOWS,
    maxConcurrentActivities: s.VAO_MAX_CONCURRENT_ACTIVITIES,
    pipecat: {
      apiUrl: s.PIPECAT_API_URL,
      publicApiUrl: `${s.PIPECAT_API_URL}/public`,
      privateApiKey: s.PIPECAT_PRIVATE_API_KEY,
      publicApiKey: s.PIPECAT_PUBLIC_API_KEY,
    },
    videosdk: {
      apiUrl: s.VIDEOSDK_API_URL,
      apiKey: s.VIDEOSDK_API_KEY,
      secret: s.VIDEOSDK_SECRET,
    },
    encryptionKeys: s.VAO_ENCRYPTION_KEYS,
    ops: { metricsPort: s.VAO_METRICS_PORT, port: s.VAO_OPS_PORT, codecToken: s.VAO_CODEC_TOKEN,
      codecJwt: s.VAO_CODEC_JWKS_URL ? { jwksUrl: s.VAO_CODEC_JWKS_URL, issuer: s.VAO_CODEC_JWT_ISSUER || undefined, audience: s.VAO_CODEC_JWT_AUDIENCE || undefined } : undefined,
      codecCorsOrigins: s.VAO_CODEC_CORS_ORIGINS,
    },
    workflowBundlePath: s.VAO_WORKFLOW_BUNDLE || undefined,
    tracing: s.OTEL_EXPORTER_OTLP_ENDPOINT || s.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? { serviceName: s.OTEL_SERVICE_NAME } : undefined,
    webhooks: { signingSecret: s.VAO_WEBHOOK_SECRET, port: s.VAO_WEBHOOK_PORT, publicUrl: s.VAO_WEBHOOK_PUBLIC_URL },
  };
}
