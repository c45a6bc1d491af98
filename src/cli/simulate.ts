import type { Command } from 'commander';
import { runPipecatSimulatorFromCli } from '../simulators/pipecat';
import { parseNumber } from './common';

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('Run the Pipecat Cloud API simulator on its own (for the official CLI, curl or your own code)')
    .option('--port <port>', 'port to listen on', parseNumber('--port', { integer: true }), 8787)
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--seed <n>', 'seed for fault injection and jitter', parseNumber('--seed', { integer: true }))
    .action(async (flags: { port: number; host: string; seed?: number }) => {
      const sim = await runPipecatSimulatorFromCli({ port: flags.port, host: flags.host, seed: flags.seed });
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await sim.close();
    });
}
