import http from 'node:http';
import { z } from 'zod';
import { FaultInjector, seededRandom, type FaultOptions } from '../faults';
import { closeServer, HttpError, lazyJson, listen, matchRoute, readBody, route, sendJson, type Reply, type Route, type RouteContext } from '../http';
import {
  AgentStore,
  agentDetails,
  agentListItem,
  DEFAULT_TIMING,
  defaultBehaviour,
  globMatch,
  type DeployTiming,
  type ImageBehaviour,
} from './agents';
import { DEFAULT_SESSION_BEHAVIOUR, SessionStore, type ProxiedRequest, type SessionBehaviour, type SessionRecord } from './sessions';

export type { DeployTiming, ImageBehaviour } from './agents';
export type { ProxiedRequest, SessionBehaviour, SessionRecord } from './sessions';
export type { FaultOptions } from '../faults';

/**
 * A Pipecat Cloud API simulator: a real HTTP server whose agent endpoints behave as the reference
 * documents them (casing quirks, deprecated mirrors, lagging reconcile, failure modes), with fault
 * injection for resilience tests and benchmarks. Admin endpoints live under `/_sim`.
 */
export interface PipecatSimulatorOptions {
  host?: string;
  port?: number;
  privateApiKey?: string;
  publicApiKey?: string;
  timing?: Partial<DeployTiming>;
  secretSets?: string[];
  imagePullSecretSets?: string[];
  imageBehaviours?: Record<string, ImageBehaviour>;
  /** Deploy timing per image glob (first match wins), on top of `timing`. */
  imageTimings?: Record<string, Partial<DeployTiming>>;
  faults?: Partial<FaultOptions>;
  sessions?: Partial<SessionBehaviour>;
  seed?: number;
  logRequests?: boolean;
}

export interface DeploymentTimeline {
  agentName: string;
  deploymentId: string;
  image: string;
  behaviour: ImageBehaviour;
  createdAt: number;
  reconciledAt: number;
  activeAt: number | null;
  failedAt: number | null;
}

export interface PipecatSimulator {
  url: string;
  publicUrl: string;
  adminUrl: string;
  privateApiKey: string;
  publicApiKey: string;
  setFaults(faults: Partial<FaultOptions>): void;
  /** Faults injected so far, per "METHOD /route-template" and kind. */
  injectedFaults(): Record<string, Partial<Record<string, number>>>;
  setTiming(timing: Partial<DeployTiming>): void;
  setImageBehaviour(imagePattern: string, behaviour: ImageBehaviour): void;
  setImageTiming(imagePattern: string, timing: Partial<DeployTiming>): void;
  addSecretSet(name: string, kind?: 'secret' | 'imagePullSecret'): void;
  deploymentTimelines(agentName?: string): DeploymentTimeline[];
  /** API requests per "METHOD /route-template" (faulted ones included). */
  requestCounts(): Record<string, number>;
  /** API requests per "METHOD /actual/path", e.g. 'GET /agents/bot-1'. */
  requestCountsByPath(): Record<string, number>;
  resetCounts(): void;
  setSessionBehaviour(behaviour: Partial<SessionBehaviour>): void;
  /** Ends a live session as if the caller hung up. */
  hangUp(sessionId: string): boolean;
  /** Sessions the simulator has started (all agents, or one), settled to now. */
  sessions(agentName?: string): SessionRecord[];
  liveSessionCount(agentName: string): number;
  /** What the bot received through the session proxy. */
  proxiedRequests(sessionId?: string): ProxiedRequest[];
  sessionStats(): { started: number; rejectedAtCapacity: number };
  reset(): void;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;
const UNAUTHORIZED = { error: 'Unauthorized / token expired', code: '401' };
const BehaviourSchema = z.enum(['ok', 'image-not-found', 'pull-unauthorized', 'invalid-platform', 'crash-loop']);
const LatencySchema = z.union([z.number().min(0), z.object({ min: z.number().min(0), max: z.number().min(0) })]);
const FaultsSchema = z
  .object({
    latencyMs: LatencySchema,
    errorRate: z.number().min(0).max(1),
    resetRate: z.number().min(0).max(1),
    dropResponseRate: z.number().min(0).max(1),
    slowRate: z.number().min(0).max(1),
    slowResponseMs: z.number().min(0),
    routes: z.array(z.string()).nullable(),
  })
  .partial()
  .strict();
const TimingSchema = z
  .object({
    reconcileDelayMs: z.number().min(0),
    creatingMs: z.number().min(0),
    validatingMs: z.number().min(0),
    drainingMs: z.number().min(0),
    jitterMs: z.number().min(0),
    crashLoopRestartMs: z.number().min(1),
  })
  .partial()
  .strict();

function adminParse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new HttpError(400, { error: `${issue.path.join('.') || 'body'}: ${issue.message}`, code: 'INVALID_ADMIN_REQUEST' });
  }
  return parsed.data;
}

export async function startPipecatSimulator(options: PipecatSimulatorOptions = {}): Promise<PipecatSimulator> {
  const host = options.host ?? '127.0.0.1';
  const privateApiKey = options.privateApiKey ?? 'pcc_sim_private_key';
  const publicApiKey = options.publicApiKey ?? 'pk_sim_public_key';
  const random = seededRandom(options.seed ?? Date.now());
  const faults = new FaultInjector(random, options.faults);
  const imageBehaviours = new Map<string, ImageBehaviour>(Object.entries(options.imageBehaviours ?? {}));
  const behaviourFor = (image: string): ImageBehaviour => {
    for (const [pattern, behaviour] of imageBehaviours) if (globMatch(pattern, image)) return behaviour;
    return defaultBehaviour(image);
  };
  const imageTimings = new Map<string, Partial<DeployTiming>>(Object.entries(options.imageTimings ?? {}));
  const timingFor = (image: string): Partial<DeployTiming> | undefined => {
    for (const [pattern, t] of imageTimings) if (globMatch(pattern, image)) return t;
    return undefined;
  };
  const timing: DeployTiming = { ...DEFAULT_TIMING, ...options.timing };
  const newStore = () => new AgentStore({ timing, timingFor, random, behaviourFor, organizationId: 'sim-org' });
  let store = newStore();
  const sessionBehaviour: SessionBehaviour = { ...DEFAULT_SESSION_BEHAVIOUR, ...options.sessions };
  let sessions = new SessionStore(store, sessionBehaviour, random);
  const seedSecrets = () => {
    for (const name of options.secretSets ?? ['default-secrets']) store.secretSets.set(name, { name, kind: 'secret', region: 'us-west' });
    for (const name of options.imagePullSecretSets ?? []) store.secretSets.set(name, { name, kind: 'imagePullSecret', region: 'us-west' });
  };
  seedSecrets();
  let counts: Record<string, number> = {};
  let pathCounts: Record<string, number> = {};

  const privateAuth = (ctx: RouteContext) => {
    if (ctx.req.headers.authorization !== `Bearer ${privateApiKey}`) throw new HttpError(401, UNAUTHORIZED);
  };
  const publicAuth = (ctx: RouteContext) => {
    if (ctx.req.headers.authorization !== `Bearer ${publicApiKey}`) throw new HttpError(401, UNAUTHORIZED);
  };
  const details = (agent: Parameters<typeof agentDetails>[0]) =>
    agentDetails(agent, Date.now(), { activeSessionCount: sessions.liveSessions(agent.name).length });
  const proxyRoute = (method: string) =>
    route(method, '/public/:name/sessions/:sessionId/*path', (ctx) => {
      publicAuth(ctx);
      // host, content-length and authorization are not forwarded to the bot (documented).
      const { host: _h, 'content-length': _l, authorization: _a, ...headers } = ctx.req.headers as Record<string, string>;
      const reply = sessions.proxy(ctx.params.name!, ctx.params.sessionId!, method, `/${ctx.params.path ?? ''}`, headers, ctx.json());
      return { status: reply.status, body: reply.body };
    });
  const detailsOf = (name: string) => {
    const agent = store.live(name);
    if (!agent) throw new HttpError(404, { error: 'Not found', code: 'NOT_FOUND' });
    return agent;
  };

  const apiRoutes: Route[] = [
    route('POST', '/agents', (ctx) => {
      privateAuth(ctx);
      const agent = store.create(ctx.json());
      return { status: 200, body: details(agent) };
    }),
    route('GET', '/agents', (ctx) => {
      privateAuth(ctx);
      const region = ctx.query.get('region');
      const include = ctx.query.get('includeActiveDeployment') === 'true';
      const services = [...store.agents.values()]
        .filter((a) => a.deletedAt === null && (!region || a.region === region))
        .map((a) => agentListItem(a, include));
      return { status: 200, body: { services } };
    }),
    route('GET', '/agents/:name', (ctx) => {
      privateAuth(ctx);
      return { status: 200, body: details(detailsOf(ctx.params.name!)) };
    }),
    route('POST', '/agents/:name', (ctx) => {
      privateAuth(ctx);
      const { agent, warning } = store.update(ctx.params.name!, ctx.json());
      return { status: 200, body: { ...details(agent), ...(warning ? { warning } : {}) } };
    }),
    route('DELETE', '/agents/:name', (ctx) => {
      privateAuth(ctx);
      store.delete(ctx.params.name!);
      return { status: 200, body: { status: 'OK' } };
    }),
    route('POST', '/public/:name/start', async (ctx) => {
      publicAuth(ctx);
      const { response, answerAfterMs } = sessions.start(ctx.params.name!, ctx.json() ?? {});
      if (answerAfterMs > 0) await new Promise((r) => setTimeout(r, answerAfterMs));
      return { status: 200, body: response };
    }),
    ...['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map(proxyRoute),
    route('GET', '/agents/:name/sessions', (ctx) => {
      privateAuth(ctx);
      return { status: 200, body: sessions.list(ctx.params.name!, ctx.query, 'sim-org') };
    }),
    route('GET', '/agents/:name/sessions/:sessionId', (ctx) => {
      privateAuth(ctx);
      return { status: 200, body: sessions.get(ctx.params.name!, ctx.params.sessionId!, 'sim-org') };
    }),
    route('DELETE', '/agents/:name/sessions/:sessionId', (ctx) => {
      privateAuth(ctx);
      return { status: 200, body: sessions.stop(ctx.params.name!, ctx.params.sessionId!) };
    }),
  ];
  const SessionBehaviourSchema = z
    .object({
      coldStartMs: z.number().min(0),
      warmStartMs: z.number().min(0),
      cooldownMs: z.number().min(0),
      naturalDurationMs: z.object({ min: z.number().min(0), max: z.number().min(0) }).nullable(),
      capacityErrorShape: z.enum(['rate-limit', 'at-capacity', 'alternate']),
      capacityRetryAfterSec: z.number().min(0).nullable(),
      proxyReply: z.object({ status: z.number().int().min(100).max(599), body: z.unknown() }),
    })
    .partial()
    .strict();

  const adminRoutes: Route[] = [
    route('GET', '/health', () => ({ status: 200, body: { status: 'ok' } })),
    route('GET', '/state', () => ({
      status: 200,
      body: {
        agents: [...store.agents.values()].filter((a) => a.deletedAt === null).map((a) => details(a)),
        sessions: sim.sessions(),
        sessionStats: sessions.stats,
        timelines: sim.deploymentTimelines(),
        requestCounts: counts,
        faults: faults.current,
        injectedFaults: faults.injected,
        timing,
      },
    })),
    route('POST', '/faults', (ctx) => {
      const body = adminParse(FaultsSchema, ctx.json());
      faults.set({ ...body, ...(body.routes === null ? { routes: undefined } : {}) } as Partial<FaultOptions>);
      return { status: 200, body: faults.current };
    }),
    route('POST', '/timing', (ctx) => {
      store.setTiming(adminParse(TimingSchema, ctx.json()));
      return { status: 200, body: timing };
    }),
    route('POST', '/images', (ctx) => {
      const { image, behaviour } = adminParse(z.object({ image: z.string().min(1), behaviour: BehaviourSchema }).strict(), ctx.json());
      imageBehaviours.set(image, behaviour);
      return { status: 200, body: { image, behaviour } };
    }),
    route('POST', '/secret-sets', (ctx) => {
      const { name, kind } = adminParse(
        z.object({ name: z.string().min(1), kind: z.enum(['secret', 'imagePullSecret']).default('secret') }).strict(),
        ctx.json(),
      );
      store.secretSets.set(name, { name, kind, region: 'us-west' });
      return { status: 200, body: { name, kind } };
    }),
    route('POST', '/session-behaviour', (ctx) => {
      Object.assign(sessionBehaviour, adminParse(SessionBehaviourSchema, ctx.json()));
      return { status: 200, body: sessionBehaviour };
    }),
    route('POST', '/sessions/:sessionId/hang-up', (ctx) => {
      const ended = sessions.hangUp(ctx.params.sessionId!);
      return ended ? { status: 200, body: { status: 'ended' } } : { status: 404, body: { error: 'no live session with that id', code: 'NOT_FOUND' } };
    }),
    route('GET', '/proxied', (ctx) => ({
      status: 200,
      body: { requests: sessions.proxied.filter((r) => !ctx.query.get('sessionId') || r.sessionId === ctx.query.get('sessionId')) },
    })),
    route('POST', '/reset', () => {
      sim.reset();
      return { status: 200, body: { status: 'ok' } };
    }),
  ];

  async function dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const method = req.method ?? 'GET';
    const admin = url.pathname.startsWith('/_sim/');
    const pathname = admin ? url.pathname.slice('/_sim'.length) : url.pathname.startsWith('/v1/') ? url.pathname.slice(3) : null;
    if (pathname === null) return sendJson(res, 404, { error: 'API endpoint not found', code: '404' });

    const matched = matchRoute(admin ? adminRoutes : apiRoutes, method, pathname);
    if (!('route' in matched)) {
      return matched.methodMismatch
        ? sendJson(res, 405, { error: `Method ${method} not allowed`, code: '405' })
        : sendJson(res, 404, { error: 'API endpoint not found', code: '404' });
    }

    const routeKey = `${method} ${matched.route.template}`;
    let decision: ReturnType<FaultInjector['decide']> = 'none';
    if (!admin) {
      counts[routeKey] = (counts[routeKey] ?? 0) + 1;
      const pathKey = `${method} ${pathname}`;
      pathCounts[pathKey] = (pathCounts[pathKey] ?? 0) + 1;
      const latency = faults.latency();
      if (latency > 0) await new Promise((r) => setTimeout(r, latency));
      decision = faults.decide(routeKey, method !== 'GET' && method !== 'HEAD');
      if (decision === 'reset') return void req.socket.destroy();
      if (decision === 'error') {
        const roll = random();
        if (roll < 0.6) return sendJson(res, 500, { error: 'Internal Server Error', code: 'INTERNAL_SERVER_ERROR' });
        res.writeHead(roll < 0.8 ? 502 : 503, { 'content-type': 'text/html' });
        return void res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
      }
    }

    const raw = await readBody(req, MAX_BODY * 2);
    if (raw === 'too-large') return sendJson(res, 413, { error: 'Request body too large', code: '413' });
    const ctx: RouteContext = {
      req,
      params: matched.params,
      query: url.searchParams,
      raw,
      json: lazyJson(raw, () => new HttpError(400, { error: 'Invalid JSON body', code: 'GENERIC_BAD_REQUEST' })),
    };
    let reply: Reply;
    try {
      reply = await matched.route.handler(ctx);
    } catch (err) {
      if (err instanceof HttpError) reply = { status: err.status, body: err.body, headers: err.headers };
      else reply = { status: 500, body: { error: (err as Error).message, code: 'INTERNAL_SERVER_ERROR' } };
    }
    if (options.logRequests) process.stderr.write(`[pipecat-sim] ${method} ${url.pathname} → ${reply.status}\n`);
    // A slow response: the platform did the work, the answer arrives after the caller gave up.
    if (decision === 'slow') await new Promise((r) => setTimeout(r, faults.current.slowResponseMs));
    // The request was applied; now its answer is lost, as when a proxy drops the connection.
    if (decision === 'drop-response' && reply.status < 400) return void req.socket.destroy();
    sendJson(res, reply.status, reply.body, reply.headers);
  }

  const server = http.createServer((req, res) => {
    dispatch(req, res).catch((err: unknown) => sendJson(res, 500, { error: String(err), code: 'INTERNAL_SERVER_ERROR' }));
  });
  server.keepAliveTimeout = 5000;
  const port = await listen(server, options.port ?? 0, host);
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const sim: PipecatSimulator = {
    url: `${base}/v1`,
    publicUrl: `${base}/v1/public`,
    adminUrl: `${base}/_sim`,
    privateApiKey,
    publicApiKey,
    setFaults: (f) => faults.set(f),
    injectedFaults: () => structuredClone(faults.injected),
    setTiming: (t) => store.setTiming(t),
    setImageBehaviour: (pattern, behaviour) => void imageBehaviours.set(pattern, behaviour),
    setImageTiming: (pattern, t) => void imageTimings.set(pattern, t),
    addSecretSet: (name, kind = 'secret') => void store.secretSets.set(name, { name, kind, region: 'us-west' }),
    deploymentTimelines(agentName) {
      return [...store.agents.values()]
        .filter((a) => !agentName || a.name === agentName)
        .flatMap((a) =>
          a.deployments.map((d) => ({
            agentName: a.name,
            deploymentId: d.id,
            image: d.spec.image,
            behaviour: d.behaviour,
            createdAt: d.createdAt,
            reconciledAt: d.reconciledAt,
            activeAt: d.activeAt,
            failedAt: d.failedAt,
          })),
        );
    },
    requestCounts: () => ({ ...counts }),
    requestCountsByPath: () => ({ ...pathCounts }),
    resetCounts() {
      counts = {};
      pathCounts = {};
    },
    reset() {
      store = newStore();
      sessions = new SessionStore(store, sessionBehaviour, random);
      seedSecrets();
      sim.resetCounts();
      faults.set({ latencyMs: 0, errorRate: 0, resetRate: 0, dropResponseRate: 0, slowRate: 0, routes: undefined });
    },
    setSessionBehaviour: (b) => void Object.assign(sessionBehaviour, b),
    hangUp: (sessionId) => sessions.hangUp(sessionId),
    sessions(agentName) {
      const now = Date.now();
      const names = new Set([...sessions.sessions.values()].map((x) => x.agentName));
      for (const name of names) sessions.liveSessions(name, now); // settles deadlines
      return [...sessions.sessions.values()].filter((x) => !agentName || x.agentName === agentName).map((x) => ({ ...x }));
    },
    liveSessionCount: (agentName) => sessions.liveSessions(agentName).length,
    proxiedRequests: (sessionId) => sessions.proxied.filter((r) => !sessionId || r.sessionId === sessionId),
    sessionStats: () => ({ ...sessions.stats }),
    close: () => closeServer(server),
  };
  return sim;
}

export async function runPipecatSimulatorFromCli(opts: { port: number; host?: string; seed?: number }): Promise<PipecatSimulator> {
  const sim = await startPipecatSimulator({ port: opts.port, host: opts.host, seed: opts.seed, logRequests: true });
  process.stderr.write(
    `Pipecat Cloud simulator: private API ${sim.url} (key ${sim.privateApiKey}), public API ${sim.publicUrl} (key ${sim.publicApiKey}), admin ${sim.adminUrl}\n`,
  );
  return sim;
}
