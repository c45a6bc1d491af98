import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { callProvider, ProviderError } from '../http';
import {
  AgentDetailsSchema,
  AgentListSchema,
  DeleteAgentSchema,
  SessionListSchema,
  SessionSchema,
  StartSessionResponseSchema,
  StopSessionSchema,
  type AgentDetails,
  type Session,
  type SessionList,
  type StartSessionRequest,
  type StartSessionResponse,
  type AgentList,
  type CreateAgentRequest,
  type UpdateAgentRequest,
} from './schemas';

export interface PipecatClientOptions {
  /** Private API base, e.g. `https://api.pipecat.daily.co/v1`. */
  apiUrl: string;
  /** Public API base, e.g. `https://api.pipecat.daily.co/v1/public`. */
  publicApiUrl: string;
  privateApiKey?: string;
  publicApiKey?: string;
  timeoutMs: number;
  dispatcher?: Dispatcher;
}

/** Drops undefined/null so the API sees only what the caller set (as the official JS client does). */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== null)) as T;
}

export class PipecatClient {
  constructor(private readonly options: PipecatClientOptions) {}

  private privateKey(operation: string): string {
    if (!this.options.privateApiKey) {
      throw new ProviderError('pipecat', 'permanent', `Pipecat Cloud ${operation}: PIPECAT_PRIVATE_API_KEY is not set`, {
        code: 'PCC-1002',
        operation,
      });
    }
    return this.options.privateApiKey;
  }

  private async privateCall<T>(
    operation: string,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    schema: z.ZodType<T>,
    body?: unknown,
    acceptStatuses?: number[],
  ) {
    return callProvider({
      provider: 'pipecat',
      operation,
      method,
      url: `${this.options.apiUrl}${path}`,
      headers: { authorization: `Bearer ${this.privateKey(operation)}` },
      body,
      timeoutMs: this.options.timeoutMs,
      schema,
      acceptStatuses,
      dispatcher: this.options.dispatcher,
    });
  }

  /** The agent, or null when it does not exist. */
  async getAgent(agentName: string): Promise<AgentDetails | null> {
    const res = await this.privateCall('getAgent', 'GET', `/agents/${encodeURIComponent(agentName)}`, AgentDetailsSchema, undefined, [404]);
    return res.status === 404 ? null : res.data;
  }

  async createAgent(request: CreateAgentRequest): Promise<AgentDetails> {
    const res = await this.privateCall('createAgent', 'POST', '/agents', AgentDetailsSchema, compact(request));
    return res.data!;
  }

  async updateAgent(agentName: string, request: UpdateAgentRequest): Promise<AgentDetails> {
    const res = await this.privateCall(
      'updateAgent',
      'POST',
      `/agents/${encodeURIComponent(agentName)}`,
      AgentDetailsSchema,
      compact(request),
    );
    return res.data!;
  }

  async listAgents(options: { region?: string; includeActiveDeployment?: boolean } = {}): Promise<AgentList> {
    const query = new URLSearchParams();
    if (options.region) query.set('region', options.region);
    if (options.includeActiveDeployment) query.set('includeActiveDeployment', 'true');
    const suffix = query.size > 0 ? `?${query}` : '';
    const res = await this.privateCall('listAgents', 'GET', `/agents${suffix}`, AgentListSchema);
    return res.data!;
  }

  /** True when deleted now, false when it was already gone. */
  async deleteAgent(agentName: string): Promise<boolean> {
    const res = await this.privateCall('deleteAgent', 'DELETE', `/agents/${encodeURIComponent(agentName)}`, DeleteAgentSchema, undefined, [404]);
    return res.status !== 404;
  }

  /** `POST {public}/{agent}/start` with the public key. Not idempotent: see the session workflow. */
  async startSession(agentName: string, request: StartSessionRequest): Promise<StartSessionResponse> {
    const operation = 'startSession';
    if (!this.options.publicApiKey) {
      throw new ProviderError('pipecat', 'permanent', 'Pipecat Cloud startSession: PIPECAT_PUBLIC_API_KEY is not set', {
        code: 'PCC-1002',
        operation,
      });
    }
    const res = await callProvider({
      provider: 'pipecat',
      operation,
      method: 'POST',
      url: `${this.options.publicApiUrl}/${encodeURIComponent(agentName)}/start`,
      headers: { authorization: `Bearer ${this.options.publicApiKey}` },
      body: compact(request),
      timeoutMs: this.options.timeoutMs,
      schema: StartSessionResponseSchema,
      dispatcher: this.options.dispatcher,
    });
    return res.data!;
  }

  /** True when stopped now, false when it was already gone (404 counts as stopped). */
  async stopSession(agentName: string, sessionId: string): Promise<boolean> {
    const res = await this.privateCall(
      'stopSession',
      'DELETE',
      `/agents/${encodeURIComponent(agentName)}/sessions/${encodeURIComponent(sessionId)}`,
      StopSessionSchema,
      undefined,
      [404],
    );
    return res.status !== 404;
  }

  /** The session, or null when unknown. */
  async getSession(agentName: string, sessionId: string): Promise<Session | null> {
    const res = await this.privateCall(
      'getSession',
      'GET',
      `/agents/${encodeURIComponent(agentName)}/sessions/${encodeURIComponent(sessionId)}`,
      SessionSchema,
      undefined,
      [404],
    );
    return res.status === 404 ? null : res.data;
  }

  async listSessions(
    agentName: string,
    filters: { status?: 'active' | 'ended' | 'all'; limit?: number; offset?: number; deploymentId?: string; startTime?: number; endTime?: number } = {},
  ): Promise<SessionList> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(filters)) if (value !== undefined) query.set(key, String(value));
    const suffix = query.size > 0 ? `?${query}` : '';
    const res = await this.privateCall('listSessions', 'GET', `/agents/${encodeURIComponent(agentName)}/sessions${suffix}`, SessionListSchema);
    return res.data!;
  }

  /**
   * The session proxy: `{public}/{agent}/sessions/{id}{path}` reaches the running bot (base image >= 0.1.2).
   * Answers from the bot come back as they are; platform errors are classified as usual.
   */
  async proxyToSession(agentName: string, sessionId: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const operation = 'sessionProxy';
    if (!this.options.publicApiKey) {
      throw new ProviderError('pipecat', 'permanent', 'Pipecat Cloud sessionProxy: PIPECAT_PUBLIC_API_KEY is not set', { code: 'PCC-1002', operation });
    }
    const res = await callProvider({
      provider: 'pipecat',
      operation,
      method,
      url: `${this.options.publicApiUrl}/${encodeURIComponent(agentName)}/sessions/${encodeURIComponent(sessionId)}${path}`,
      headers: { authorization: `Bearer ${this.options.publicApiKey}` },
      body,
      timeoutMs: this.options.timeoutMs,
      schema: z.unknown(),
      dispatcher: this.options.dispatcher,
    });
    return res.data;
  }
}
