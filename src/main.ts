import { ConfigError } from './config';
import { createLogger } from './logging';
import { startWorkerProcess } from './worker';

async function main(): Promise<void> {
  const logger = createLogger((process.env.VAO_LOG_LEVEL as never) || 'info');
  try {
    const running = await startWorkerProcess(process.env, logger);
    await running.done;
    logger.info('Worker stopped');
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const problem of err.problems) process.stderr.write(`config error: ${problem}\n`);
    } else {
      logger.error(`Worker failed: ${(err as Error).message}`);
    }
    process.exitCode = 1;
  }
}

void main();
