/** Seeded randomness and fault injection shared by the provider simulators. */

/** mulberry32: tiny, fast, good enough to make fault runs repeatable from a seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FaultOptions {
  /** Added to every API response: fixed ms or a uniform range. */
  latencyMs: number | { min: number; max: number };
  /** Share of API requests answered 500/502/503 before any state change. */
  errorRate: number;
  /** Share of API requests whose connection is destroyed before any state change. */
  resetRate: number;
  /** Share of mutating requests (POST/PUT/PATCH/DELETE) that are applied, then lose their response. */
  dropResponseRate: number;
  /** Share of API requests applied at once but answered only after `slowResponseMs` (longer than a client's timeout). */
  slowRate: number;
  slowResponseMs: number;
  /** Only requests whose "METHOD /route-template" is listed get faults; undefined: all. */
  routes?: string[];
}

export const NO_FAULTS: FaultOptions = {
  latencyMs: 0,
  errorRate: 0,
  resetRate: 0,
  dropResponseRate: 0,
  slowRate: 0,
  slowResponseMs: 30_000,
  routes: undefined,
};

export type FaultDecision = 'none' | 'error' | 'reset' | 'drop-response' | 'slow';

export class FaultInjector {
  private options: FaultOptions;
  constructor(
    private readonly random: () => number,
    options: Partial<FaultOptions> = {},
  ) {
    this.options = { ...NO_FAULTS, ...options };
  }

  set(options: Partial<FaultOptions>): void {
    this.options = { ...this.options, ...options };
    if ('routes' in options && options.routes === undefined) this.options.routes = undefined;
  }

  get current(): FaultOptions {
    return { ...this.options };
  }

  latency(): number {
    const l = this.options.latencyMs;
    if (typeof l === 'number') return l;
    return l.min + this.random() * (l.max - l.min);
  }

  /** How many of each fault were injected, per "METHOD /route-template", so a fault run can say what it survived. */
  readonly injected: Record<string, Partial<Record<Exclude<FaultDecision, 'none'>, number>>> = {};

  decide(route: string, mutating: boolean): FaultDecision {
    const decision = this.roll(route, mutating);
    if (decision !== 'none') {
      const perRoute = (this.injected[route] ??= {});
      perRoute[decision] = (perRoute[decision] ?? 0) + 1;
    }
    return decision;
  }

  private roll(route: string, mutating: boolean): FaultDecision {
    const o = this.options;
    if (o.routes && !o.routes.includes(route)) return 'none';
    if (o.errorRate > 0 && this.random() < o.errorRate) return 'error';
    if (o.resetRate > 0 && this.random() < o.resetRate) return 'reset';
    if (o.slowRate > 0 && this.random() < o.slowRate) return 'slow';
    if (mutating && o.dropResponseRate > 0 && this.random() < o.dropResponseRate) return 'drop-response';
    return 'none';
  }
}
