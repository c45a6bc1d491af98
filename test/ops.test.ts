import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { startDeploy } from '../src/client/deploy';
import { startSession } from '../src/client/session';
import { createLogger } from '../src/logging';
import { startOpsServer, type OpsServer } from '../src/ops/server';
import { AesGcmPayloadCodec } from '../src/security/codec';
import { dataConverterFor } from '../src/security/data-converter';
import { parseKeyRing, Sealer } from '../src/security/sealing';
import { freePort } from '../src/temporal/dev-server';
import { sessionStopNowSignal } from '../src/workflows/messages';
import { createTestEnv, uniqueTaskQueue } from './helpers/temporal';

const KEYS = `ops1:${Buffer.alloc(32, 9).toString('base64')}`;
const TOKEN = 'operator-token-123';
const UI = 'http://localhost:8233';
const quiet = createLogger('error');

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('ops endpoint: remote payload codec and health', () => {
  let ops: OpsServer;
  let healthy = false;
  before(async () => {
    ops = await startOpsServer({
      host: '127.0.0.1',
      port: 0,
      logger: quiet,
      health: () => ({ healthy, details: { worker: healthy ? 'RUNNING' : 'STARTING' } }),
      codec: { codec: new AesGcmPayloadCodec(parseKeyRing(KEYS)), token: TOKEN, corsOrigins: [UI] },
    });
  });
  after(() => ops?.close());

  test('the Web UI decodes what the worker encrypted; the plain text is nowhere in the encrypted form', async () => {
    const payload = defaultPayloadConverter.toPayload({ phone: '+15550009999' });
    const [encrypted] = await new AesGcmPayloadCodec(parseKeyRing(KEYS)).encode([payload]);
    const wire = {
      payloads: [
        {
          metadata: Object.fromEntries(Object.entries(encrypted!.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
          data: Buffer.from(encrypted!.data!).toString('base64'),
        },
      ],
    };
    assert.equal(JSON.stringify(wire).includes('15550009999'), false);
    const res = await post(`${ops.url}/codec/decode`, wire, { authorization: `Bearer ${TOKEN}`, origin: UI, 'x-namespace': 'default' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), UI);
    const { payloads } = (await res.json()) as { payloads: Array<{ data: string }> };
    assert.deepEqual(JSON.parse(Buffer.from(payloads[0]!.data, 'base64').toString()), { phone: '+15550009999' });

    const back = await post(`${ops.url}/codec/encode`, { payloads: [{ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('"x"').toString('base64') }] }, { authorization: `Bearer ${TOKEN}` });
    const encoded = (await back.json()) as { payloads: Array<{ metadata: Record<string, string> }> };
    assert.equal(Buffer.from(encoded.payloads[0]!.metadata.encoding!, 'base64').toString(), 'binary/encrypted');
  });

  test('CORS preflight from the UI passes; other origins, wrong tokens and bad bodies are refused with JSON', async () => {
    const preflight = await fetch(`${ops.url}/codec/decode`, { method: 'OPTIONS', headers: { origin: UI, 'access-control-request-method': 'POST' } });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Authorization/);

    const cases: Array<[string, Promise<Response>, number, RegExp]> = [
      ['foreign origin', post(`${ops.url}/codec/decode`, { payloads: [] }, { authorization: `Bearer ${TOKEN}`, origin: 'https://evil.example' }), 403, /origin/],
      ['no token', post(`${ops.url}/codec/decode`, { payloads: [] }), 401, /token/],
      ['wrong token', post(`${ops.url}/codec/decode`, { payloads: [] }, { authorization: 'Bearer nope' }), 401, /token/],
      ['not JSON', post(`${ops.url}/codec/decode`, '{', { authorization: `Bearer ${TOKEN}` }), 400, /not JSON/],
      ['not base64', post(`${ops.url}/codec/decode`, { payloads: [{ data: '***' }] }, { authorization: `Bearer ${TOKEN}` }), 400, /payloads\.0\.data/],
      ['unknown key', post(`${ops.url}/codec/decode`, { payloads: [{ metadata: { encoding: Buffer.from('binary/encrypted').toString('base64'), 'encryption-key-id': Buffer.from('old').toString('base64') }, data: '' }] }, { authorization: `Bearer ${TOKEN}` }), 422, /unknown key "old"/],
      ['GET', fetch(`${ops.url}/codec/decode`, { headers: { authorization: `Bearer ${TOKEN}` } }), 405, /POST/],
    ];
    for (const [name, pending, status, message] of cases) {
      const res = await pending;
      assert.equal(res.status, status, name);
      assert.match(((await res.json()) as { error: string }).error, message, name);
    }
  });

  test('health answers 503 until the worker runs, then 200', async () => {
    healthy = false;
    assert.equal((await fetch(`${ops.url}/healthz`)).status, 503);
    healthy = true;
    const res = await fetch(`${ops.url}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { status: string }).status, 'ok');
  });
});

describe('codec endpoint behind the Web UI login (OIDC access tokens checked against a JWKS)', () => {
  test('a token signed by the identity provider passes; a foreign, expired or wrong-audience one gets 401', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const { privateKey: foreignKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' };
    const idp = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
    const jwksUrl = `http://127.0.0.1:${(idp.address() as { port: number }).port}/.well-known/jwks.json`;
    const ops = await startOpsServer({
      host: '127.0.0.1',
      port: 0,
      logger: quiet,
      health: () => ({ healthy: true, details: {} }),
      codec: { codec: new AesGcmPayloadCodec(parseKeyRing(KEYS)), jwt: { jwksUrl, issuer: 'https://idp.example', audience: 'temporal-ui' }, corsOrigins: [UI] },
    });
    const token = (key: Parameters<SignJWT["sign"]>[0], claims: { aud?: string; exp?: string } = {}) =>
      new SignJWT({ sub: 'operator@example.com' })
        .setProtectedHeader({ alg: 'RS256', kid: 'idp-1' })
        .setIssuer('https://idp.example')
        .setAudience(claims.aud ?? 'temporal-ui')
        .setIssuedAt()
        .setExpirationTime(claims.exp ?? '5m')
        .sign(key);
    try {
      const decode = async (bearer: string) => (await post(`${ops.url}/codec/decode`, { payloads: [] }, { authorization: `Bearer ${bearer}`, origin: UI })).status;
      assert.equal(await decode(await token(privateKey)), 200);
      assert.equal(await decode(await token(foreignKey)), 401, 'signed by someone else');
      assert.equal(await decode(await token(privateKey, { aud: 'another-app' })), 401, 'meant for another audience');
      assert.equal(await decode(await token(privateKey, { exp: '-1m' })), 401, 'expired');
      assert.equal(await decode('not-a-jwt'), 401);
    } finally {
      await ops.close();
      await new Promise((r) => idp.close(r));
    }
  });
});

describe('the worker process: metrics, health and a graceful stop', { skip: !process.env.TEMPORAL_TEST_ADDRESS && 'needs the shared dev server of npm test' }, () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await createTestEnv();
  });
  after(() => env?.teardown());

  test('npm start exposes /healthz and Prometheus metrics with temporal_* and vao_* series; SIGTERM exits 0', async () => {
    const [metricsPort, opsPort] = [await freePort(), await freePort()];
    const taskQueue = uniqueTaskQueue('ops');
    const worker: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'src', 'main.ts')], {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: process.env.TEMPORAL_TEST_ADDRESS,
        TEMPORAL_TASK_QUEUE: taskQueue,
        VAO_SANDBOX: 'on',
        VAO_METRICS_PORT: String(metricsPort),
        VAO_OPS_PORT: String(opsPort),
        VAO_ENCRYPTION_KEYS: KEYS,
        VAO_CODEC_TOKEN: TOKEN,
        VAO_LOG_LEVEL: 'debug',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    worker.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const res = await fetch(`http://127.0.0.1:${opsPort}/healthz`).catch(() => null);
        if (res?.status === 200) break;
        assert.ok(Date.now() < deadline, `the worker never became healthy: ${stderr.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 250));
      }

      const dataConverter = dataConverterFor(KEYS);
      const client = new Client({ connection: env.client.connection, dataConverter });
      const agentName = `ops-${process.pid}`;
      const deploy = await startDeploy(client, { agentName, image: 'acme/bot:1.0', pollIntervalSec: 0.2, autoScaling: { maxAgents: 2 } }, { taskQueue });
      assert.equal((await deploy.result()).status, 'ready');
      const info = await startSession(client, { agentName, sessionKey: `ops-${process.pid}` }, { taskQueue, sealer: new Sealer(parseKeyRing(KEYS)) });
      await client.workflow.getHandle(info.workflowId).signal(sessionStopNowSignal);
      await client.workflow.getHandle(info.workflowId).result();

      // The exporter publishes on its own cadence: poll until our series show up.
      let metrics = '';
      for (const until = Date.now() + 15_000; Date.now() < until; await new Promise((r) => setTimeout(r, 300))) {
        metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        if (/vao_sessions_ended/.test(metrics) && /vao_deploys/.test(metrics) && /vao_workflows_running/.test(metrics)) break;
      }
      if (process.env.OPS_DEBUG) console.log(metrics.split('\n').filter((l) => /vao_/.test(l)).join('\n'));
      assert.match(metrics, /^temporal_workflow_completed_total\{/m, 'the runtime’s own metrics');
      assert.match(metrics, /^vao_session_start_requests_total\{[^}]*provider="pipecat"[^}]*result="started"[^}]*\} 1$/m);
      assert.match(metrics, /^vao_deploys_total\{[^}]*result="ready"[^}]*\} 1$/m);
      assert.match(metrics, /^vao_sessions_ended_total\{[^}]*reason="stopped"[^}]*\} 1$/m);
      assert.match(metrics, /^vao_session_capacity_wait_bucket\{[^}]*le="15000"[^}]*\} 1$/m, "our bucket boundaries");
      assert.match(metrics, /^vao_workflows_running\{[^}]*workflow_type="agentSession"[^}]*\} \d+$/m);
      assert.equal(metrics.includes(KEYS.split(':')[1]!), false);

      // SDK log lines come out as our JSON lines, with the ids the SDK attaches.
      const lines = stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.ok(
        lines.some((l) => l.workflowId === info.workflowId && l.activityType === 'startAgentSession' && l.taskQueue === taskQueue),
        'an activity log line carries its workflow id, activity type and task queue',
      );
      assert.equal(stderr.includes(KEYS.split(':')[1]!), false, 'the encryption key is never logged');
    } finally {
      worker.kill('SIGTERM');
    }
    assert.equal(await exited, 0, `graceful shutdown exits 0: ${stderr.slice(-1000)}`);
  });
});
