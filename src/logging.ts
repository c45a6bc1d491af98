import { inspect } from 'node:util';
import type { Logger as TemporalLogger, LogLevel as TemporalLogLevel, LogMetadata } from '@temporalio/common';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Human-readable lines on a terminal, JSON lines elsewhere (containers, CI), so log pipelines can
 * index workflow and session ids. Values are printed as given: callers pass ids, never secrets.
 */
export function createLogger(level: LogLevel = 'info', options: { json?: boolean; stream?: NodeJS.WritableStream } = {}): Logger {
  const stream = options.stream ?? process.stderr;
  const json = options.json ?? !(stream as { isTTY?: boolean }).isTTY;
  const write = (lvl: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < ORDER[level]) return;
    if (json) {
      stream.write(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, msg: message, ...fields })}\n`);
    } else {
      const extra = fields && Object.keys(fields).length > 0 ? ` ${inspect(fields, { breakLength: Infinity, depth: 4 })}` : '';
      stream.write(`${new Date().toISOString()} ${lvl.toUpperCase().padEnd(5)} ${message}${extra}\n`);
    }
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

/**
 * The Temporal SDK's logger (workflow `log`, activity `log`, the worker and core) writing through ours, so
 * SDK lines come out in the same format with the ids the SDK attaches: `workflowId`, `runId`,
 * `workflowType`, `activityType`, `taskQueue`, `namespace`.
 */
export function temporalLoggerFrom(logger: Logger): TemporalLogger {
  const write = (level: TemporalLogLevel, message: string, meta?: LogMetadata) => {
    const fields: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(meta ?? {})) {
      fields[key] = value instanceof Error ? value.message : value;
    }
    if (level === 'TRACE' || level === 'DEBUG') logger.debug(message, fields);
    else if (level === 'INFO') logger.info(message, fields);
    else if (level === 'WARN') logger.warn(message, fields);
    else logger.error(message, fields);
  };
  return {
    log: write,
    trace: (m, meta) => write('TRACE', m, meta),
    debug: (m, meta) => write('DEBUG', m, meta),
    info: (m, meta) => write('INFO', m, meta),
    warn: (m, meta) => write('WARN', m, meta),
    error: (m, meta) => write('ERROR', m, meta),
  };
}
