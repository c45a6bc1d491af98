import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { HttpError } from '../http';
import { agentDetails, type AgentRecord, type AgentStore } from './agents';

/**
 * Session behaviour of the Pipecat Cloud simulator: one session per agent instance, so `maxAgents`
 * caps live sessions and the next start is answered 429; cold starts when no warm instance is idle;
 * the agent's `maxSessionDuration` cuts sessions off; sessions may end by themselves (the caller hangs
 * up); and the session proxy records what the bot was sent. State is derived from timestamps.
 */
export interface SessionBehaviour {
  /** Extra answer time of a start that needs a new instance (documented: ~10 s, sometimes > 60 s). */
  coldStartMs: number;
  /** Answer time of a start that lands on an idle warm instance. */
  warmStartMs: number;
  /** An instance stays warm this long after its session ends (documented: 5 min). */
  cooldownMs: number;
  /** Sessions end by themselves after uniform(min, max) ms; null: only stop or the cap ends them. */
  naturalDurationMs: { min: number; max: number } | null;
  /** 429 body: the active-sessions doc shape, the error-codes doc shape, or alternating. */
  capacityErrorShape: 'rate-limit' | 'at-capacity' | 'alternate';
  /** Seconds sent in `Retry-After` on 429; null sends none (the documented API sends none). */
  capacityRetryAfterSec: number | null;
  /** What the bot answers on the session proxy. */
  proxyReply: { status: number; body: unknown };
}

export const DEFAULT_SESSION_BEHAVIOUR: SessionBehaviour = {
  coldStartMs: 0,
  warmStartMs: 0,
  cooldownMs: 5 * 60_000,
  naturalDurationMs: null,
  capacityErrorShape: 'rate-limit',
  capacityRetryAfterSec: null,
  proxyReply: { status: 200, body: { status: 'ok' } },
};

const DEFAULT_MAX_SESSION_SEC = 7200;
/** The identity path our sessions' bots answer on the session proxy. */
export const IDENTITY_PATH = '/vao/session';

export interface ProxiedRequest {
  sessionId: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
  at: number;
}

export interface SessionRecord {
  sessionId: string;
  agentName: string;
  serviceId: string;
  deploymentId: string;
  createdAt: number;
  botStartSeconds: number;
  coldStart: boolean;
  transport: string | null;
  body: unknown;
  /** When the platform cuts it off (the deployment's maxSessionDuration). */
  capAt: number;
  /** When the caller hangs up, if the behaviour says so. */
  naturalEndAt: number | null;
  /** Set by stop, or lazily when a deadline has passed. */
  endedAt: number | null;
  completionStatus: string | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

export class SessionStore {
  readonly sessions = new Map<string, SessionRecord>();
  readonly proxied: ProxiedRequest[] = [];
  /** Instances that finished a session, per agent: warm until `idleSince + cooldownMs`. */
  private readonly idleSince = new Map<string, number[]>();
  private capacityToggle = false;
  /** Starts answered 429, and starts accepted, for benchmarks. */
  stats = { started: 0, rejectedAtCapacity: 0 };

  constructor(
    private readonly agents: AgentStore,
    readonly behaviour: SessionBehaviour,
    private readonly random: () => number,
  ) {}

  /** Applies deadlines that have passed, so every view is current. */
  private settle(session: SessionRecord, now: number): void {
    if (session.endedAt !== null) return;
    const natural = session.naturalEndAt ?? Infinity;
    const end = Math.min(natural, session.capAt);
    if (end <= now) this.end(session, end, end === session.capAt && session.capAt <= natural ? 'MAX_SESSION_DURATION_EXCEEDED' : 'HTTP_COMPLETED');
  }

  private end(session: SessionRecord, at: number, status: string): void {
    session.endedAt = at;
    session.completionStatus = status;
    const idle = this.idleSince.get(session.agentName) ?? [];
    idle.push(at);
    this.idleSince.set(session.agentName, idle);
  }

  liveSessions(agentName: string, now = Date.now()): SessionRecord[] {
    const live: SessionRecord[] = [];
    for (const s of this.sessions.values()) {
      if (s.agentName !== agentName) continue;
      this.settle(s, now);
      if (s.endedAt === null) live.push(s);
    }
    return live;
  }

  /** Takes a warm idle instance if one is left (true), else the start is a cold one. */
  private takeWarmInstance(agent: AgentRecord, liveCount: number, now: number): boolean {
    const idle = (this.idleSince.get(agent.name) ?? []).filter((t) => now - t < this.behaviour.cooldownMs);
    this.idleSince.set(agent.name, idle);
    if (liveCount < agent.autoScaling.minReplicas) return true;
    if (idle.length > 0) {
      idle.shift();
      return true;
    }
    return false;
  }

  private capacityError(): HttpError {
    const shape =
      this.behaviour.capacityErrorShape === 'alternate'
        ? (this.capacityToggle = !this.capacityToggle)
          ? 'rate-limit'
          : 'at-capacity'
        : this.behaviour.capacityErrorShape;
    const headers: Record<string, string> =
      this.behaviour.capacityRetryAfterSec !== null ? { 'retry-after': String(this.behaviour.capacityRetryAfterSec) } : {};
    const body =
      shape === 'rate-limit'
        ? { status: 429, code: '429', message: 'Rate limit exceeded. Please try again later' }
        : { error: 'Service maximum agent instances reached', code: 'PCC-AGENT-AT-CAPACITY' };
    return new HttpError(429, body, headers);
  }

  /** Validates and admits a start; returns the session and how long the answer takes. */
  start(agentName: string, request: unknown, now = Date.now()): { session: SessionRecord; response: Record<string, unknown>; answerAfterMs: number } {
    const agent = this.agents.live(agentName);
    if (!agent) throw new HttpError(404, { error: `Service ${agentName} not found`, code: '404' });
    if (request === null || typeof request !== 'object' || Array.isArray(request)) {
      throw new HttpError(400, { error: 'Request body must be a JSON object', code: 'GENERIC_BAD_REQUEST' });
    }
    const req = request as Record<string, unknown>;
    const transport = req.transport;
    if (transport !== undefined && transport !== 'daily' && transport !== 'webrtc' && transport !== 'websocket') {
      throw new HttpError(400, { error: 'transport must be one of daily, webrtc, websocket', code: 'GENERIC_BAD_REQUEST' });
    }
    const body = req.body;
    if (body !== undefined && (body === null || typeof body !== 'object' || Array.isArray(body))) {
      throw new HttpError(400, { error: 'body must be a JSON object', code: 'GENERIC_BAD_REQUEST' });
    }
    const bodySize = body === undefined ? 0 : Buffer.byteLength(JSON.stringify(body));
    const limit = transport === 'websocket' ? 4 * 1024 : 1024 * 1024;
    if (bodySize > limit) {
      throw new HttpError(413, { error: `body exceeds the ${transport === 'websocket' ? '4 KB websocket' : '1 MB'} limit (${bodySize} bytes)`, code: '413' });
    }
    if (body && (body as Record<string, unknown>).websocket_auth === 'none') {
      throw new HttpError(400, { error: 'websocket_auth "none" is not allowed in the session body', code: 'GENERIC_BAD_REQUEST' });
    }

    const details = agentDetails(agent, now);
    if (!details.available) {
      throw new HttpError(400, {
        error: 'Attempt to start agent when deployment is not in ready state. Please check the deployment status and try again.',
        code: 'PCC-1001',
      });
    }
    const live = this.liveSessions(agentName, now);
    if (live.length >= agent.autoScaling.maxReplicas) {
      this.stats.rejectedAtCapacity += 1;
      throw this.capacityError();
    }
    const warm = this.takeWarmInstance(agent, live.length, now);
    const answerAfterMs = warm ? this.behaviour.warmStartMs : this.behaviour.coldStartMs;
    const serving = agent.deployments.findLast((d) => d.activeAt !== null && d.activeAt <= now) ?? agent.deployments.at(-1)!;
    const capSec = serving.spec.maxSessionDuration ?? DEFAULT_MAX_SESSION_SEC;
    const natural = this.behaviour.naturalDurationMs;
    const session: SessionRecord = {
      sessionId: randomUUID(),
      agentName,
      serviceId: agent.serviceId,
      deploymentId: serving.id,
      createdAt: now,
      botStartSeconds: Math.round(answerAfterMs / 1000),
      coldStart: !warm,
      transport: (transport as string | undefined) ?? null,
      body: body ?? null,
      capAt: now + answerAfterMs + capSec * 1000,
      naturalEndAt: natural ? now + answerAfterMs + natural.min + this.random() * (natural.max - natural.min) : null,
      endedAt: null,
      completionStatus: null,
    };
    this.sessions.set(session.sessionId, session);
    this.stats.started += 1;

    const response: Record<string, unknown> = { sessionId: session.sessionId };
    if (req.createDailyRoom === true) {
      const room = randomBytes(10).toString('base64url');
      response.dailyRoom = `https://cloud-sim.daily.co/${room}`;
      response.dailyToken = `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ r: room, sid: session.sessionId })).toString('base64url')}.sim`;
    }
    if (req.enableDefaultIceServers === true) {
      response.iceConfig = {
        iceServers: [{ urls: ['stun:stun.sim.local:3478', 'turn:turn.sim.local:3478?transport=udp'], username: 'sim-user', credential: randomBytes(12).toString('hex') }],
      };
    }
    if (transport === 'websocket') {
      const payload = Buffer.from(JSON.stringify({ sh: `${agentName}.sim-org`, exp: Math.floor(now / 1000) + 300, sid: session.sessionId })).toString('base64url');
      response.token = `${payload}.${createHmac('sha256', 'sim-ws-secret').update(payload).digest('base64url')}`;
      response.wsUrl = `wss://us-west.sim.pipecat.local/ws/generic/${agentName}.sim-org`;
      response.body = Buffer.from(JSON.stringify(body ?? {})).toString('base64');
    }
    return { session, response, answerAfterMs };
  }

  private find(agentName: string, sessionId: string, now: number): SessionRecord {
    const session = this.sessions.get(sessionId);
    if (!session || session.agentName !== agentName) throw new HttpError(404, { error: 'Session not found', code: 'NOT_FOUND' });
    this.settle(session, now);
    return session;
  }

  stop(agentName: string, sessionId: string, now = Date.now()) {
    if (!/^[0-9a-f-]{36}$/i.test(sessionId)) throw new HttpError(400, { error: 'Invalid session id', code: 'GENERIC_BAD_REQUEST' });
    if (!this.agents.agents.has(agentName)) throw new HttpError(404, { error: 'Service not found', code: 'NOT_FOUND' });
    const session = this.find(agentName, sessionId, now);
    if (session.endedAt !== null) throw new HttpError(404, { error: 'Session not found or already ended', code: 'NOT_FOUND' });
    this.end(session, now, 'HTTP_TERMINATED');
    return { status: 'terminated', session_id: sessionId };
  }

  /** Ends a live session as if the caller hung up (admin/tests). */
  hangUp(sessionId: string, now = Date.now()): boolean {
    const session = this.sessions.get(sessionId);
    if (!session) return false;
    this.settle(session, now);
    if (session.endedAt !== null) return false;
    this.end(session, now, 'HTTP_COMPLETED');
    return true;
  }

  view(session: SessionRecord, organizationId: string) {
    return {
      sessionId: session.sessionId,
      serviceId: session.serviceId,
      organizationId,
      deploymentId: session.deploymentId,
      endedAt: session.endedAt === null ? null : iso(session.endedAt),
      botStartSeconds: session.botStartSeconds,
      coldStart: session.coldStart,
      completionStatus: session.completionStatus,
      createdAt: iso(session.createdAt),
      updatedAt: iso(session.endedAt ?? session.createdAt),
    };
  }

  get(agentName: string, sessionId: string, organizationId: string, now = Date.now()) {
    return { ...this.view(this.find(agentName, sessionId, now), organizationId), resourceMetrics: null, meetingIds: [] };
  }

  list(agentName: string, query: URLSearchParams, organizationId: string, now = Date.now()) {
    if (!this.agents.agents.has(agentName)) throw new HttpError(404, { error: 'agent deployment not found', code: '404' });
    const status = query.get('status') ?? 'all';
    const limit = Number(query.get('limit') ?? '10');
    const offset = Number(query.get('offset') ?? '0');
    if (!['active', 'ended', 'all'].includes(status) || !Number.isInteger(limit) || limit < 1 || !Number.isInteger(offset) || offset < 0) {
      throw new HttpError(400, { error: 'Invalid parameters', err: { issues: [{ path: ['status|limit|offset'] }], name: 'ZodError' }, code: '400' });
    }
    const all = [...this.sessions.values()]
      .filter((s) => s.agentName === agentName)
      .map((s) => (this.settle(s, now), s))
      .filter((s) => status === 'all' || (status === 'active' ? s.endedAt === null : s.endedAt !== null))
      .sort((a, b) => b.createdAt - a.createdAt);
    return { total_count: all.length, sessions: all.slice(offset, offset + limit).map((s) => this.view(s, organizationId)) };
  }

  proxy(agentName: string, sessionId: string, method: string, path: string, headers: Record<string, string>, body: unknown, now = Date.now()) {
    const session = this.sessions.get(sessionId);
    if (!session || session.agentName !== agentName) throw new HttpError(404, { error: 'Session not found', code: 'NOT_FOUND' });
    this.settle(session, now);
    if (session.endedAt !== null) throw new HttpError(404, { error: 'Session has ended', code: 'NOT_FOUND' });
    this.proxied.push({ sessionId, method, path, headers, body, at: now });
    // A bot built for voice-agent-orchestrator tells which request started it (see docs/sessions.md).
    if (method === 'GET' && path === IDENTITY_PATH) {
      const key = session.body && typeof session.body === 'object' ? (session.body as Record<string, unknown>).vaoSessionKey : undefined;
      return { status: 200, body: { sessionKey: typeof key === 'string' ? key : null } };
    }
    return this.behaviour.proxyReply;
  }
}
