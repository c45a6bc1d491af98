import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';

export interface TemporalTarget {
  connectionOptions: NativeConnectionOptions;
  namespace: string;
}

/**
 * Connection settings the standard Temporal way (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`,
 * `TEMPORAL_API_KEY`, `TEMPORAL_TLS_*`, `TEMPORAL_PROFILE` and the TOML profile file), through
 * `@temporalio/envconfig`, so Temporal Cloud and self-hosted TLS need no code of ours. `addressOverride`
 * points it at the embedded dev server when no address is configured.
 */
export function resolveTemporalTarget(addressOverride?: string, env: NodeJS.ProcessEnv = process.env): TemporalTarget {
  const overrideEnvVars = Object.fromEntries(
    Object.entries({ ...env, ...(addressOverride ? { TEMPORAL_ADDRESS: addressOverride } : {}) }).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
  const { connectionOptions, namespace } = loadClientConnectConfig({ overrideEnvVars });
  return { connectionOptions, namespace: namespace ?? 'default' };
}
