import { createHmac } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { request } from 'undici';

/**
 * POSTs JSON to a customer webhook, signed like every webhook this worker sends:
 * `x-vao-signature: sha256=HMAC(secret, "<x-vao-timestamp>.<body>")`. 5xx, 429 and network errors are
 * retryable, other 4xx permanent; returns the parsed JSON answer (or null).
 */
export async function postSignedJson(
  url: string,
  payload: unknown,
  options: { secret?: string; timeoutMs: number; headers?: Record<string, string>; what: string },
): Promise<unknown> {
  const body = JSON.stringify(payload);
  const timestamp = Math.floor(Date.now() / 1000).toString();
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-vao-timestamp': timestamp, ...options.headers };
  if (options.secret) headers['x-vao-signature'] = `sha256=${createHmac('sha256', options.secret).update(`${timestamp}.${body}`).digest('hex')}`;
  let res;
  try {
    res = await request(url, { method: 'POST', headers, body, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
  } catch (err) {
    throw ApplicationFailure.retryable(`${options.what} unreachable: ${(err as Error).message}`, `${options.what}Unreachable`);
  }
  const text = await res.body.text();
  if (res.statusCode >= 500 || res.statusCode === 429) throw ApplicationFailure.retryable(`${options.what} answered ${res.statusCode}`, `${options.what}Failed`);
  if (res.statusCode >= 400) throw ApplicationFailure.nonRetryable(`${options.what} answered ${res.statusCode}`, `${options.what}Rejected`);
  try {
    return text ? (JSON.parse(text) as unknown) : null;
  } catch {
    return null;
  }
}
