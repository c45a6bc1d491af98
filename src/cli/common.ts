import { Client, Connection } from '@temporalio/client';
import { dataConverterFor } from '../security/data-converter';
import { resolveTemporalTarget } from '../temporal/connection';

/** Exit codes: 0 success, 1 the operation failed, 2 bad usage or input. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The dev server's default address when nothing is configured, matching `npm start`'s embedded server. */
export const DEFAULT_LOCAL_ADDRESS = '127.0.0.1:7233';

export async function connectClient(): Promise<{ client: Client; close(): Promise<void> }> {
  const target = resolveTemporalTarget(process.env.TEMPORAL_ADDRESS ? undefined : DEFAULT_LOCAL_ADDRESS);
  const connection = await Connection.connect({
    ...target.connectionOptions,
    connectTimeout: 5000,
  } as Parameters<typeof Connection.connect>[0]);
  // Same payload encryption as the worker, or results would be unreadable here.
  const dataConverter = dataConverterFor(process.env.VAO_ENCRYPTION_KEYS || undefined);
  return { client: new Client({ connection, namespace: target.namespace, dataConverter }), close: () => connection.close() };
}

export function taskQueue(): string {
  return process.env.TEMPORAL_TASK_QUEUE || 'voice-agents';
}

export function parseNumber(name: string, opts: { integer?: boolean } = {}) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || (opts.integer && !Number.isInteger(n))) {
      throw new UsageError(`${name} must be ${opts.integer ? 'a whole number' : 'a number'}, got "${value}"`);
    }
    return n;
  };
}

/** Plain lines when stdout is not a terminal (logs, CI); one rewritten line on a terminal. */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr) {
  let lastLine = '';
  return {
    update(line: string) {
      if (line === lastLine) return;
      lastLine = line;
      if (stream.isTTY) stream.write(`\r\x1b[2K${line}`);
      else stream.write(`${line}\n`);
    },
    done() {
      if (stream.isTTY && lastLine) stream.write('\n');
      lastLine = '';
    },
  };
}
