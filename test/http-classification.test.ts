import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { toTemporalFailure } from '../src/activities/failures';
import { callProvider, classifyStatus, parseRetryAfter, ProviderError } from '../src/providers/http';

let server: http.Server;
let base: string;
let nextReply: (req: http.IncomingMessage, res: http.ServerResponse) => void;

before(async () => {
  server = http.createServer((req, res) => nextReply(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

const call = (method: 'GET' | 'POST' = 'GET', timeoutMs = 2000) =>
  callProvider({ provider: 'pipecat', operation: 'probe', method, url: `${base}/x`, timeoutMs, schema: z.object({ ok: z.boolean() }) });

async function failureOf(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ProviderError, `expected ProviderError, got ${String(err)}`);
  return err;
}

function reply(status: number, body: unknown, headers: Record<string, string> = {}) {
  nextReply = (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
}

describe('HTTP failure classification', () => {
  test('status table', () => {
    for (const s of [400, 401, 403, 404, 413]) assert.equal(classifyStatus(s), 'permanent', String(s));
    for (const s of [409, 500, 502, 503, 504]) assert.equal(classifyStatus(s), 'retryable', String(s));
    assert.equal(classifyStatus(429), 'rate-limited');
  });

  test('Retry-After in seconds and as an HTTP date', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 0, 10)).toUTCString(), Date.UTC(2030, 0, 1)), 10_000);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
  });

  test('a 401 is permanent and carries the body `error` text', async () => {
    reply(401, { error: 'Unauthorized / token expired', code: '401' });
    const err = await failureOf(call());
    assert.equal(err.kind, 'permanent');
    assert.equal(err.status, 401);
    assert.match(err.message, /Unauthorized \/ token expired/);
  });

  test('a 429 with the `{status, code, message}` body is rate-limited and honours Retry-After', async () => {
    reply(429, { status: 429, code: '429', message: 'Rate limit exceeded. Please try again later' }, { 'retry-after': '7' });
    const err = await failureOf(call('POST'));
    assert.equal(err.kind, 'rate-limited');
    assert.equal(err.details.retryAfterMs, 7000);
    assert.match(err.message, /Rate limit exceeded/);
    const failure = toTemporalFailure(err) as ApplicationFailure;
    assert.equal(failure.type, 'ProviderRateLimited');
    assert.equal(failure.nonRetryable, false);
    assert.equal(failure.nextRetryDelay, 7000);
  });

  test('a 503 with an HTML body is retryable', async () => {
    reply(503, '<html>Service Unavailable</html>', { 'content-type': 'text/html' });
    const err = await failureOf(call());
    assert.equal(err.kind, 'retryable');
    assert.match(err.message, /Service Unavailable/);
    const failure = toTemporalFailure(err) as ApplicationFailure;
    assert.equal(failure.type, 'ProviderUnavailable');
    assert.equal(failure.nonRetryable, false);
  });

  test('a permanent failure maps to a non-retryable ApplicationFailure', async () => {
    reply(404, { error: 'Service not found', code: 'NOT_FOUND' });
    const failure = toTemporalFailure(await failureOf(call())) as ApplicationFailure;
    assert.equal(failure.type, 'ProviderPermanentError');
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /NOT_FOUND/);
  });

  test('a connection reset is retryable and, on a POST, flagged as maybe applied', async () => {
    nextReply = (req) => req.socket.destroy();
    const err = await failureOf(call('POST'));
    assert.equal(err.kind, 'retryable');
    assert.equal(err.details.maybeApplied, true);
  });

  test('a timeout is retryable', async () => {
    nextReply = () => undefined; // never answers
    const err = await failureOf(call('GET', 200));
    assert.equal(err.kind, 'retryable');
    assert.equal(err.details.maybeApplied, false);
  });

  test('a 200 with the wrong shape is a permanent contract failure, not a crash', async () => {
    reply(200, { ok: 'yes' });
    const err = await failureOf(call());
    assert.equal(err.kind, 'permanent');
    assert.equal(err.code, 'INVALID_RESPONSE');
  });

  test('a 200 with the right shape returns the parsed body', async () => {
    reply(200, { ok: true, extra: 1 });
    const res = await call();
    assert.deepEqual(res.data, { ok: true });
  });
});
