import { Context, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ProviderError } from '../providers/http';
import { InputError } from '../domain/validation';

/**
 * The one mapping from classified provider failures to Temporal failures. Activities never build
 * ApplicationFailures for HTTP problems themselves; they let errors through `withFailureMapping`.
 */
export const FailureTypes = {
  permanent: 'ProviderPermanentError',
  rateLimited: 'ProviderRateLimited',
  retryable: 'ProviderUnavailable',
  invalidInput: 'InvalidInput',
} as const;

export interface ProviderFailureDetails {
  provider: string;
  status: number | null;
  code: string | null;
  operation: string | null;
  maybeApplied: boolean;
}

export function toTemporalFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof InputError) {
    return ApplicationFailure.create({ message: err.message, type: FailureTypes.invalidInput, nonRetryable: true });
  }
  if (!(err instanceof ProviderError)) return err;
  const details: ProviderFailureDetails = {
    provider: err.provider,
    status: err.details.status ?? null,
    code: err.details.code ?? null,
    operation: err.details.operation ?? null,
    maybeApplied: err.details.maybeApplied ?? false,
  };
  switch (err.kind) {
    case 'permanent':
      return ApplicationFailure.create({
        message: err.message,
        type: FailureTypes.permanent,
        nonRetryable: true,
        details: [details],
      });
    case 'rate-limited':
      return ApplicationFailure.create({
        message: err.message,
        type: FailureTypes.rateLimited,
        details: [details],
        ...(err.details.retryAfterMs !== undefined ? { nextRetryDelay: err.details.retryAfterMs } : {}),
      });
    case 'retryable':
      return ApplicationFailure.create({ message: err.message, type: FailureTypes.retryable, details: [details] });
  }
}

/** The running activity's info; undefined when called outside an activity (scripts, unit tests). */
function activityInfoIfAny(): Context['info'] | undefined {
  try {
    return Context.current().info;
  } catch {
    return undefined;
  }
}

/**
 * Runs an activity body: maps its failures, and heartbeats every second while it runs when the
 * workflow gave it a heartbeat timeout, so a worker killed mid-request is noticed in seconds rather
 * than after the start-to-close timeout. Activities that keep progress in their heartbeat details give
 * `heartbeatDetails`, which every beat then carries (a bare beat would erase them).
 */
export async function withFailureMapping<T>(fn: () => Promise<T>, options: { heartbeatDetails?: () => unknown } = {}): Promise<T> {
  const info = activityInfoIfAny();
  const ticker =
    info && !info.isLocal && info.heartbeatTimeoutMs ? setInterval(() => heartbeat(options.heartbeatDetails?.()), 1000) : undefined;
  try {
    return await fn();
  } catch (err) {
    throw toTemporalFailure(err);
  } finally {
    if (ticker) clearInterval(ticker);
  }
}
