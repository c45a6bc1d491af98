import { request, type Dispatcher } from 'undici';
import type { z } from 'zod';

/**
 * Every provider call goes through `callProvider`, so every HTTP failure is classified here, once:
 * - `permanent`: retrying cannot help (bad request, bad key, not found, too large).
 * - `rate-limited`: the provider asked us to slow down; `retryAfterMs` says for how long when it said so.
 * - `retryable`: transient (5xx, conflicts, network errors, timeouts).
 * Activities turn a `ProviderError` into a Temporal failure in `src/activities/failures.ts`.
 */
export type Provider = 'pipecat' | 'videosdk';
export type FailureKind = 'retryable' | 'rate-limited' | 'permanent';

const PROVIDER_LABEL: Record<Provider, string> = { pipecat: 'Pipecat Cloud', videosdk: 'VideoSDK' };

export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  constructor(
    readonly provider: Provider,
    readonly kind: FailureKind,
    message: string,
    readonly details: {
      status?: number;
      code?: string;
      retryAfterMs?: number;
      /** The request may have reached the provider and been applied (lost response, timeout after send). */
      maybeApplied?: boolean;
      operation?: string;
    } = {},
  ) {
    super(message);
  }
  get status(): number | undefined {
    return this.details.status;
  }
  get code(): string | undefined {
    return this.details.code;
  }
}

const PERMANENT_STATUSES = new Set([400, 401, 402, 403, 404, 405, 410, 413, 415, 422]);

export function classifyStatus(status: number): FailureKind {
  if (status === 429) return 'rate-limited';
  if (status === 409 || status === 408 || status >= 500) return 'retryable';
  if (PERMANENT_STATUSES.has(status) || (status >= 400 && status < 500)) return 'permanent';
  return 'retryable';
}

/** `Retry-After` as delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return undefined;
  const trimmed = raw.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Providers answer errors as `{error, code}`, `{message, code}` or `{status, code, message}`; read them all. */
export function errorFromBody(body: unknown): { message?: string; code?: string } {
  if (!body || typeof body !== 'object') return {};
  const record = body as Record<string, unknown>;
  const message = [record.error, record.message].find((v): v is string => typeof v === 'string' && v.length > 0);
  const code = record.code !== undefined && record.code !== null ? String(record.code) : undefined;
  return { message, code };
}

const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_ABORTED',
  'UND_ERR_CLOSED',
]);

export interface ProviderRequest<T> {
  provider: Provider;
  /** Short name for messages and metrics, e.g. `getAgent`. */
  operation: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  timeoutMs: number;
  schema: z.ZodType<T>;
  /** Statuses that are an answer rather than a failure (e.g. 404 on a lookup); the body is then returned raw. */
  acceptStatuses?: number[];
  dispatcher?: Dispatcher;
  signal?: AbortSignal;
}

/** `data` is null only for a status listed in `acceptStatuses`. */
export interface ProviderResponse<T> {
  status: number;
  data: T | null;
}

export async function callProvider<T>(req: ProviderRequest<T>): Promise<ProviderResponse<T>> {
  const label = PROVIDER_LABEL[req.provider];
  const mutating = req.method !== 'GET';
  let response: Dispatcher.ResponseData;
  try {
    response = await request(req.url, {
      method: req.method,
      headers: {
        accept: 'application/json',
        ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...req.headers,
      },
      body: req.body !== undefined ? JSON.stringify(req.body) : undefined,
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
      dispatcher: req.dispatcher,
      signal: req.signal,
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    const known = code && NETWORK_ERROR_CODES.has(code);
    throw new ProviderError(
      req.provider,
      'retryable',
      `${label} ${req.operation}: ${known ? `network error ${code}` : (err as Error).message}`,
      { code, maybeApplied: mutating && code !== 'ECONNREFUSED', operation: req.operation },
    );
  }

  let text: string;
  try {
    text = await response.body.text();
  } catch (err) {
    throw new ProviderError(req.provider, 'retryable', `${label} ${req.operation}: response body lost (${(err as Error).message})`, {
      status: response.statusCode,
      maybeApplied: mutating,
      operation: req.operation,
    });
  }
  let json: unknown = undefined;
  if (text.length > 0) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }

  const status = response.statusCode;
  if (req.acceptStatuses?.includes(status)) return { status, data: null };

  if (status >= 200 && status < 300) {
    const parsed = req.schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ProviderError(
        req.provider,
        'permanent',
        `${label} ${req.operation}: unexpected response shape (${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'unparseable'})`,
        { status, code: 'INVALID_RESPONSE', operation: req.operation },
      );
    }
    return { status, data: parsed.data };
  }

  const kind = classifyStatus(status);
  const fromBody = errorFromBody(json);
  const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
  const reason = fromBody.message ?? (text && json === undefined ? text.slice(0, 200).trim() : `HTTP ${status}`);
  throw new ProviderError(
    req.provider,
    kind,
    `${label} ${req.operation} failed: HTTP ${status}${fromBody.code && fromBody.code !== String(status) ? ` ${fromBody.code}` : ''}: ${reason}`,
    { status, code: fromBody.code, retryAfterMs, operation: req.operation, maybeApplied: mutating && status >= 500 },
  );
}
