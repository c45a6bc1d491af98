import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Minimal routing and JSON plumbing for the simulators (node:http only, no framework). */

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body === 'object' && body && 'error' in body ? String((body as { error: unknown }).error) : `HTTP ${status}`);
  }
}

export interface RouteContext {
  req: http.IncomingMessage;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Raw body bytes (already size-checked). */
  raw: Buffer;
  /** Parsed JSON body, or undefined when empty. Throws 400 lazily when it is not JSON. */
  json(): unknown;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (ctx: RouteContext) => Reply | Promise<Reply>;

export interface Route {
  method: string;
  /** e.g. `/agents/:name/sessions/:sessionId`; `*path` matches the rest. */
  template: string;
  handler: Handler;
  pattern: RegExp;
  keys: string[];
}

export function route(method: string, template: string, handler: Handler): Route {
  const keys: string[] = [];
  const pattern = new RegExp(
    `^${template
      .split('/')
      .map((part) => {
        if (part.startsWith(':')) {
          keys.push(part.slice(1));
          return '([^/]+)';
        }
        if (part.startsWith('*')) {
          keys.push(part.slice(1));
          return '(.*)';
        }
        return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/')}$`,
  );
  return { method, template, handler, pattern, keys };
}

export function matchRoute(routes: Route[], method: string, pathname: string): { route: Route; params: Record<string, string> } | { methodMismatch: boolean } {
  let methodMismatch = false;
  for (const r of routes) {
    const m = r.pattern.exec(pathname);
    if (!m) continue;
    if (r.method !== method) {
      methodMismatch = true;
      continue;
    }
    const params: Record<string, string> = {};
    r.keys.forEach((key, i) => (params[key] = decodeURIComponent(m[i + 1] ?? '')));
    return { route: r, params };
  }
  return { methodMismatch };
}

/** A lazily parsed JSON body: undefined when empty; `invalid()` is thrown when it is not JSON. */
export function lazyJson(raw: Buffer, invalid: () => HttpError): () => unknown {
  let parsed: { value: unknown } | undefined;
  return () => {
    if (!parsed) {
      if (raw.length === 0) parsed = { value: undefined };
      else {
        try {
          parsed = { value: JSON.parse(raw.toString('utf8')) };
        } catch {
          throw invalid();
        }
      }
    }
    return parsed.value;
  };
}

export async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export async function listen(server: http.Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

export async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
