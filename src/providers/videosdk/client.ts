import { SignJWT } from 'jose';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { callProvider, ProviderError } from '../http';
import {
  EndVideoSdkSessionResponseSchema,
  StartVideoSdkSessionResponseSchema,
  VideoSdkSessionListSchema,
  VideoSdkSessionSchema,
  type StartVideoSdkSessionRequest,
  type VideoSdkSession,
} from './schemas';

export interface VideoSdkClientOptions {
  apiUrl: string;
  apiKey?: string;
  secret?: string;
  timeoutMs: number;
  /** Lifetime of each minted token; short, since one is minted per request. */
  tokenTtlSec?: number;
  dispatcher?: Dispatcher;
}

/**
 * VideoSDK's REST API authenticates with an HS256 JWT signed by the account secret, sent in
 * `Authorization` without a prefix. A short-lived token is minted per request (jose), so a leaked
 * header is useless within minutes and no long-lived token sits in memory.
 */
export class VideoSdkClient {
  private readonly secretKey?: Uint8Array;
  constructor(private readonly options: VideoSdkClientOptions) {
    if (options.secret) this.secretKey = new TextEncoder().encode(options.secret);
  }

  async mintToken(now = Math.floor(Date.now() / 1000)): Promise<string> {
    if (!this.options.apiKey || !this.secretKey) {
      throw new ProviderError('videosdk', 'permanent', 'VideoSDK: VIDEOSDK_API_KEY and VIDEOSDK_SECRET are not set', { code: 'NO_CREDENTIALS' });
    }
    return new SignJWT({ apikey: this.options.apiKey, permissions: ['allow_join', 'allow_mod'], version: 2, roles: ['crawler'] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(now)
      .setExpirationTime(now + (this.options.tokenTtlSec ?? 300))
      .sign(this.secretKey);
  }

  private async call<T>(operation: string, method: 'GET' | 'POST', path: string, schema: z.ZodType<T>, body?: unknown, acceptStatuses?: number[]) {
    return callProvider({
      provider: 'videosdk',
      operation,
      method,
      url: `${this.options.apiUrl}${path}`,
      headers: { authorization: await this.mintToken() },
      body,
      timeoutMs: this.options.timeoutMs,
      schema,
      acceptStatuses,
      dispatcher: this.options.dispatcher,
    });
  }

  async startSession(request: StartVideoSdkSessionRequest): Promise<VideoSdkSession> {
    const res = await this.call('startSession', 'POST', '/ai/v1/ai-deployment-sessions/start', StartVideoSdkSessionResponseSchema, request);
    return res.data!.data;
  }

  /** True when ended now; false when the session was already unknown (404). */
  async endSession(sessionId: string): Promise<boolean> {
    const res = await this.call('endSession', 'POST', '/ai/v1/ai-deployment-sessions/end', EndVideoSdkSessionResponseSchema, { sessionId }, [404]);
    return res.status !== 404;
  }

  async getSession(sessionId: string): Promise<VideoSdkSession | null> {
    const res = await this.call('getSession', 'GET', `/ai/v1/ai-deployment-sessions/${encodeURIComponent(sessionId)}`, VideoSdkSessionSchema, undefined, [404]);
    return res.status === 404 ? null : res.data;
  }

  async listSessions(page = 1, perPage = 10) {
    const res = await this.call('listSessions', 'GET', `/ai/v1/ai-deployment-sessions?page=${page}&perPage=${perPage}`, VideoSdkSessionListSchema);
    return res.data!;
  }

  /** PEM of the key VideoSDK signs webhooks with (public endpoint, no auth). */
  async fetchWebhookPublicKey(): Promise<string> {
    const res = await callProvider({
      provider: 'videosdk',
      operation: 'getWebhookPublicKey',
      method: 'GET',
      url: `${this.options.apiUrl}/v2/public/rsa-public-key`,
      timeoutMs: this.options.timeoutMs,
      schema: z.object({ publicKey: z.string().min(1) }),
      dispatcher: this.options.dispatcher,
    });
    return res.data!.publicKey;
  }
}
