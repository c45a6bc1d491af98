import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import http from 'node:http';
import { errors as joseErrors, jwtVerify } from 'jose';
import { request } from 'undici';
import { z } from 'zod';
import { FaultInjector, seededRandom, type FaultOptions } from '../faults';
import { closeServer, HttpError, lazyJson, listen, matchRoute, readBody, route, sendJson, type Reply, type Route, type RouteContext } from '../http';

/**
 * A VideoSDK "AI deployment session" API simulator: JWT auth exactly as documented (HS256, no prefix,
 * `Token is invalid or expired`), sessions `queued → running → stopping → completed` (or `failed`),
 * webhooks signed RSA-SHA256 in `videosdk-signature` with the public key served at
 * `/v2/public/rsa-public-key`, a capacity knob answering 429, and fault injection.
 */
export interface VideoSdkSimulatorOptions {
  host?: string;
  port?: number;
  apiKey?: string;
  secret?: string;
  /** Concurrent sessions (queued or running) before starts are answered 429. */
  capacity?: number;
  queuedMs?: number;
  stoppingMs?: number;
  /** Sessions end by themselves after uniform(min, max) ms of running; null: never. */
  naturalDurationMs?: { min: number; max: number } | null;
  faults?: Partial<FaultOptions>;
  seed?: number;
}

export interface VideoSdkSessionRecord {
  sessionId: string;
  deploymentId: string | null;
  tag: string | null;
  env: Record<string, string>;
  metaData: Record<string, unknown>;
  webhook: { endPoint: string; events: string[] } | null;
  createdAt: number;
  runningAt: number;
  naturalEndAt: number | null;
  stopRequestedAt: number | null;
  failedAt: number | null;
}

export interface WebhookDelivery {
  sessionId: string;
  type: string;
  endPoint: string;
  status: number | null;
  at: number;
}

export interface VideoSdkSimulator {
  url: string;
  adminUrl: string;
  apiKey: string;
  secret: string;
  publicKeyPem: string;
  /** Signs a body as the platform does (for tests of our receiver). */
  signBody(body: string): string;
  sessions(): Array<VideoSdkSessionRecord & { status: string }>;
  liveSessionCount(): number;
  hangUp(sessionId: string): boolean;
  fail(sessionId: string): boolean;
  setCapacity(capacity: number): void;
  setFaults(faults: Partial<FaultOptions>): void;
  webhookDeliveries(): WebhookDelivery[];
  /** Start requests that created a session, starts refused at capacity, and end requests received. */
  stats(): { started: number; rejectedAtCapacity: number; endRequests: number };
  close(): Promise<void>;
}

const INVALID_TOKEN = { message: 'Token is invalid or expired' };

export async function startVideoSdkSimulator(options: VideoSdkSimulatorOptions = {}): Promise<VideoSdkSimulator> {
  const apiKey = options.apiKey ?? 'vsdk_sim_api_key';
  const secret = options.secret ?? 'vsdk_sim_secret_0123456789abcdef';
  const secretKey = new TextEncoder().encode(secret);
  const random = seededRandom(options.seed ?? Date.now());
  const faults = new FaultInjector(random, options.faults);
  let capacity = options.capacity ?? 50;
  const queuedMs = options.queuedMs ?? 200;
  const stoppingMs = options.stoppingMs ?? 100;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const signBody = (body: string) => sign('sha256', Buffer.from(body), privateKey).toString('base64');

  const sessions = new Map<string, VideoSdkSessionRecord>();
  const timers = new Set<NodeJS.Timeout>();
  const deliveries: WebhookDelivery[] = [];
  const stats = { started: 0, rejectedAtCapacity: 0, endRequests: 0 };

  const endAt = (s: VideoSdkSessionRecord) => Math.min(s.stopRequestedAt ?? Infinity, s.naturalEndAt ?? Infinity);
  function statusOf(s: VideoSdkSessionRecord, now = Date.now()): string {
    if (s.failedAt !== null && s.failedAt <= now) return 'failed';
    const end = endAt(s);
    if (end + stoppingMs <= now) return 'completed';
    if (end <= now) return 'stopping';
    return now < s.runningAt ? 'queued' : 'running';
  }
  const isLive = (s: VideoSdkSessionRecord) => ['queued', 'running'].includes(statusOf(s));

  function at(when: number, fn: () => void) {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, Math.max(0, when - Date.now()));
    timers.add(t);
  }
  function deliver(s: VideoSdkSessionRecord, type: string) {
    if (!s.webhook || !s.webhook.events.includes(type)) return;
    const body = JSON.stringify({ webhookType: type, data: { sessionId: s.sessionId } });
    const delivery: WebhookDelivery = { sessionId: s.sessionId, type, endPoint: s.webhook.endPoint, status: null, at: Date.now() };
    deliveries.push(delivery);
    request(s.webhook.endPoint, { method: 'POST', headers: { 'content-type': 'application/json', 'videosdk-signature': signBody(body) }, body, headersTimeout: 5000 })
      .then(async (res) => {
        delivery.status = res.statusCode;
        await res.body.dump();
      })
      .catch(() => (delivery.status = 0));
  }
  /** (Re)schedules the webhooks that follow from the session's timestamps. */
  function scheduleEnd(s: VideoSdkSessionRecord) {
    const end = endAt(s);
    if (end === Infinity) return;
    at(end, () => deliver(s, 'ai-deployment-session-stopping'));
    at(end + stoppingMs, () => deliver(s, 'ai-deployment-session-stopped'));
  }

  const view = (s: VideoSdkSessionRecord) => {
    const status = statusOf(s);
    const ended = status === 'completed' || status === 'failed';
    const end = ended ? Math.min(endAt(s) + stoppingMs, s.failedAt ?? Infinity) : null;
    return {
      sessionId: s.sessionId,
      status,
      deploymentId: s.deploymentId,
      tag: s.tag,
      start: new Date(s.createdAt).toISOString(),
      ...(end !== null ? { end: new Date(end).toISOString(), duration: Math.floor((end - s.createdAt) / 1000) } : {}),
      createdAt: new Date(s.createdAt).toISOString(),
      updatedAt: new Date(end ?? s.createdAt).toISOString(),
    };
  };

  async function authenticate(ctx: RouteContext): Promise<void> {
    const token = ctx.req.headers.authorization;
    if (!token || token.includes(' ')) throw new HttpError(401, INVALID_TOKEN); // no "Bearer " prefix, as documented
    try {
      const { payload } = await jwtVerify(token, secretKey, { algorithms: ['HS256'] });
      if (payload.apikey !== apiKey) throw new Error('unknown apikey');
    } catch (err) {
      if (err instanceof joseErrors.JOSEError || err instanceof Error) throw new HttpError(401, INVALID_TOKEN);
      throw err;
    }
  }

  const StartSchema = z
    .object({
      deploymentId: z.string().optional(),
      tag: z.string().optional(),
      env: z.record(z.string(), z.string()).optional(),
      metaData: z.record(z.string(), z.unknown()).optional(),
      webhook: z.object({ endPoint: z.url(), events: z.array(z.string()) }).optional(),
    })
    .loose();

  const apiRoutes: Route[] = [
    route('POST', '/ai/v1/ai-deployment-sessions/start', async (ctx) => {
      await authenticate(ctx);
      const parsed = StartSchema.safeParse(ctx.json() ?? {});
      if (!parsed.success) throw new HttpError(400, { message: `${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}` });
      const live = [...sessions.values()].filter(isLive).length;
      if (live >= capacity) {
        stats.rejectedAtCapacity += 1;
        throw new HttpError(429, { message: 'No workers available' });
      }
      const now = Date.now();
      const natural = options.naturalDurationMs;
      const s: VideoSdkSessionRecord = {
        sessionId: randomUUID(),
        deploymentId: parsed.data.deploymentId ?? null,
        tag: parsed.data.tag ?? null,
        env: parsed.data.env ?? {},
        metaData: parsed.data.metaData ?? {},
        webhook: parsed.data.webhook ?? null,
        createdAt: now,
        runningAt: now + queuedMs,
        naturalEndAt: natural ? now + queuedMs + natural.min + random() * (natural.max - natural.min) : null,
        stopRequestedAt: null,
        failedAt: null,
      };
      sessions.set(s.sessionId, s);
      stats.started += 1;
      at(now, () => deliver(s, 'ai-deployment-session-starting'));
      at(s.runningAt, () => deliver(s, 'ai-deployment-session-started'));
      scheduleEnd(s);
      return { status: 200, body: { message: 'Session started successfully', data: view(s) } };
    }),
    route('POST', '/ai/v1/ai-deployment-sessions/end', async (ctx) => {
      await authenticate(ctx);
      const sessionId = (ctx.json() as { sessionId?: unknown } | undefined)?.sessionId;
      if (typeof sessionId !== 'string') throw new HttpError(400, { message: 'sessionId is required' });
      const s = sessions.get(sessionId);
      if (!s) throw new HttpError(404, { message: 'Session not found' });
      stats.endRequests += 1;
      if (isLive(s)) {
        s.stopRequestedAt = Date.now();
        scheduleEnd(s);
      }
      return { status: 200, body: { message: 'Session stopped successfully', data: { ...view(s), status: 'completed' } } };
    }),
    route('GET', '/ai/v1/ai-deployment-sessions/:id', async (ctx) => {
      await authenticate(ctx);
      const s = sessions.get(ctx.params.id!);
      if (!s) throw new HttpError(404, { message: 'Session not found' });
      return { status: 200, body: view(s) };
    }),
    route('GET', '/ai/v1/ai-deployment-sessions', async (ctx) => {
      await authenticate(ctx);
      const page = Math.max(1, Number(ctx.query.get('page') ?? '1') || 1);
      const perPage = Math.min(100, Math.max(1, Number(ctx.query.get('perPage') ?? '10') || 10));
      const all = [...sessions.values()].sort((a, b) => b.createdAt - a.createdAt);
      const data = all.slice((page - 1) * perPage, page * perPage).map((s) => ({
        ...view(s),
        webhook: s.webhook ? { endpoint: s.webhook.endPoint, events: s.webhook.events } : null,
        metadata: s.metaData,
      }));
      return { status: 200, body: { data, pageInfo: { totalItems: all.length, currentPage: page, perPage, total: Math.ceil(all.length / perPage) } } };
    }),
    route('GET', '/v2/public/rsa-public-key', () => ({ status: 200, body: { publicKey: publicKeyPem } })),
  ];
  const adminRoutes: Route[] = [
    route('GET', '/state', () => ({ status: 200, body: { sessions: sim.sessions(), deliveries, stats, capacity } })),
    route('POST', '/capacity', (ctx) => {
      const c = (ctx.json() as { capacity?: unknown } | undefined)?.capacity;
      if (typeof c !== 'number' || !Number.isInteger(c) || c < 0) throw new HttpError(400, { error: 'capacity: must be a whole number >= 0' });
      capacity = c;
      return { status: 200, body: { capacity } };
    }),
    route('POST', '/sessions/:id/hang-up', (ctx) =>
      sim.hangUp(ctx.params.id!) ? { status: 200, body: { status: 'ended' } } : { status: 404, body: { error: 'no live session with that id' } },
    ),
  ];

  async function dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const method = req.method ?? 'GET';
    const admin = url.pathname.startsWith('/_sim/');
    const pathname = admin ? url.pathname.slice('/_sim'.length) : url.pathname;
    const matched = matchRoute(admin ? adminRoutes : apiRoutes, method, pathname);
    if (!('route' in matched)) return sendJson(res, matched.methodMismatch ? 405 : 404, { message: 'Not found' });
    let decision: ReturnType<FaultInjector['decide']> = 'none';
    if (!admin) {
      const latency = faults.latency();
      if (latency > 0) await new Promise((r) => setTimeout(r, latency));
      decision = faults.decide(`${method} ${matched.route.template}`, method !== 'GET');
      if (decision === 'reset') return void req.socket.destroy();
      if (decision === 'error') return sendJson(res, 500, { message: 'Internal server error' });
    }
    const raw = await readBody(req, 1024 * 1024);
    if (raw === 'too-large') return sendJson(res, 413, { message: 'Request body too large' });
    const ctx: RouteContext = {
      req,
      params: matched.params,
      query: url.searchParams,
      raw,
      json: lazyJson(raw, () => new HttpError(400, { message: 'Invalid JSON body' })),
    };
    let reply: Reply;
    try {
      reply = await matched.route.handler(ctx);
    } catch (err) {
      reply = err instanceof HttpError ? { status: err.status, body: err.body } : { status: 500, body: { message: String(err) } };
    }
    // A slow response: the platform did the work, the answer arrives after the caller gave up.
    if (decision === 'slow') await new Promise((r) => setTimeout(r, faults.current.slowResponseMs));
    if (decision === 'drop-response' && reply.status < 400) return void req.socket.destroy();
    sendJson(res, reply.status, reply.body);
  }

  const server = http.createServer((req, res) => {
    dispatch(req, res).catch((err: unknown) => sendJson(res, 500, { message: String(err) }));
  });
  const port = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  const base = `http://${options.host ?? '127.0.0.1'}:${port}`;

  const sim: VideoSdkSimulator = {
    url: base,
    adminUrl: `${base}/_sim`,
    apiKey,
    secret,
    publicKeyPem,
    signBody,
    sessions: () => [...sessions.values()].map((s) => ({ ...s, status: statusOf(s) })),
    liveSessionCount: () => [...sessions.values()].filter(isLive).length,
    hangUp(sessionId) {
      const s = sessions.get(sessionId);
      if (!s || !isLive(s)) return false;
      s.naturalEndAt = Date.now();
      scheduleEnd(s);
      return true;
    },
    fail(sessionId) {
      const s = sessions.get(sessionId);
      if (!s || !isLive(s)) return false;
      s.failedAt = Date.now();
      deliver(s, 'ai-deployment-session-failed');
      return true;
    },
    setCapacity: (c) => void (capacity = c),
    setFaults: (f) => faults.set(f),
    webhookDeliveries: () => [...deliveries],
    stats: () => ({ ...stats }),
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await closeServer(server);
    },
  };
  return sim;
}
