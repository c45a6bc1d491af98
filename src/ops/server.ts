import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { z } from 'zod';
import type { Logger } from '../logging';
import { closeServer, listen, readBody, sendJson } from '../simulators/http';

/**
 * The worker's operations endpoint: `/healthz` for orchestrators and load balancers, and the remote
 * payload codec (`/codec/decode`, `/codec/encode`) the Temporal Web UI and CLI call to show encrypted
 * payloads to an operator. The codec follows Temporal's remote-codec contract: POST
 * `{payloads: [{metadata: {k: base64}, data: base64}]}`, answered in the same shape, with CORS for the
 * Web UI's origin and a bearer token.
 */
export interface OpsServerOptions {
  host: string;
  port: number;
  logger: Logger;
  /** Liveness of the worker: healthy only while it polls. */
  health: () => { healthy: boolean; details: Record<string, unknown> };
  codec?: {
    codec: PayloadCodec;
    /** A static operator token (`Authorization: Bearer <token>`, e.g. `temporal … --codec-auth`). */
    token?: string;
    /**
     * The Web UI's login: with `TEMPORAL_CODEC_PASS_ACCESS_TOKEN` the UI forwards the signed-in
     * operator's OIDC access token, verified here against the identity provider's JWKS.
     */
    jwt?: { jwksUrl: string; issuer?: string; audience?: string };
    /** Neither token nor jwt: open, which the worker allows only on loopback. */
    /** Origins allowed to call from a browser (the Web UI's URL). */
    corsOrigins: string[];
  };
  maxBodyBytes?: number;
}

export interface OpsServer {
  url: string;
  close(): Promise<void>;
}

const Base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const CodecRequestSchema = z.object({
  payloads: z
    .array(z.object({ metadata: z.record(z.string(), Base64).optional(), data: Base64.optional() }))
    .max(10_000),
});

type JsonPayload = z.infer<typeof CodecRequestSchema>['payloads'][number];

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.replace(/^Bearer\s+/i, '') ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const codec = options.codec;
  const jwks = codec?.jwt ? createRemoteJWKSet(new URL(codec.jwt.jwksUrl)) : undefined;
  const authorised = async (header: string | undefined): Promise<boolean> => {
    if (codec?.token && tokenMatches(header, codec.token)) return true;
    if (!jwks || !header?.match(/^Bearer\s+\S+\.\S+\.\S+$/i)) return false;
    try {
      await jwtVerify(header.replace(/^Bearer\s+/i, ''), jwks, { issuer: codec!.jwt!.issuer, audience: codec!.jwt!.audience });
      return true;
    } catch (err) {
      options.logger.info('Codec access token rejected', { reason: (err as Error).message });
      return false;
    }
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://ops');
    if (url.pathname === '/healthz' || url.pathname === '/livez') {
      if (req.method !== 'GET') return sendJson(res, 405, { error: 'use GET' });
      const { healthy, details } = options.health();
      return sendJson(res, healthy ? 200 : 503, { status: healthy ? 'ok' : 'unavailable', ...details });
    }
    const op = url.pathname.match(/^\/codec\/(encode|decode)$/)?.[1] as 'encode' | 'decode' | undefined;
    if (!op) return sendJson(res, 404, { error: 'not found' });
    if (!codec) return sendJson(res, 404, { error: 'the codec endpoint is off: set VAO_ENCRYPTION_KEYS and VAO_CODEC_TOKEN' });

    const origin = req.headers.origin;
    const cors: Record<string, string> = {};
    if (origin) {
      if (!codec.corsOrigins.includes(origin)) return sendJson(res, 403, { error: `origin ${origin} is not in VAO_CODEC_CORS_ORIGINS` });
      Object.assign(cors, {
        'access-control-allow-origin': origin,
        'access-control-allow-credentials': 'true',
        'access-control-allow-methods': 'POST, OPTIONS',
        'access-control-allow-headers': 'Content-Type, X-Namespace, Authorization',
        vary: 'Origin',
      });
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      res.end();
      return;
    }
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'use POST' }, cors);
    if ((codec.token || codec.jwt) && !(await authorised(req.headers.authorization))) {
      options.logger.warn('Codec request refused: bad or missing token', { op, namespace: req.headers['x-namespace'] });
      return sendJson(res, 401, { error: 'missing or wrong Authorization bearer token' }, cors);
    }
    const raw = await readBody(req, maxBody);
    if (raw === 'too-large') return sendJson(res, 413, { error: `body larger than ${maxBody} bytes` }, cors);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return sendJson(res, 400, { error: 'body is not JSON' }, cors);
    }
    const parsed = CodecRequestSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return sendJson(res, 400, { error: `${issue.path.join('.') || 'body'}: ${issue.message}` }, cors);
    }
    try {
      const payloads = parsed.data.payloads.map(fromJson);
      const out = op === 'encode' ? await codec.codec.encode(payloads) : await codec.codec.decode(payloads);
      return sendJson(res, 200, { payloads: out.map(toJson) }, cors);
    } catch (err) {
      // A payload sealed with a key this worker lacks, or tampered with: the operator needs to know which.
      return sendJson(res, 422, { error: (err as Error).message }, cors);
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      options.logger.error('ops request failed', { error: (err as Error).message, path: req.url });
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
    });
  });
  const port = await listen(server, options.port, options.host);
  return { url: `http://${options.host === '0.0.0.0' ? '127.0.0.1' : options.host}:${port}`, close: () => closeServer(server) };
}
