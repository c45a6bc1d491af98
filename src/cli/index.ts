import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config';
import { InputError } from '../domain/validation';
import { ProviderError } from '../providers/http';
import { EXIT, UsageError } from './common';
import { registerCampaignCommands } from './campaign';
import { registerDeployCommands } from './deploy';
import { registerScheduleCommands } from './schedule';
import { registerSessionCommands } from './session';
import { registerSimulateCommand } from './simulate';

export function buildProgram(): Command {
  const program = new Command('vao')
    .description('voice-agent-orchestrator: durable Pipecat Cloud and VideoSDK agents on Temporal')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  registerDeployCommands(program);
  registerSessionCommands(program);
  registerCampaignCommands(program);
  registerScheduleCommands(program);
  registerSimulateCommand(program);
  return program;
}

/** Every failure ends as one line on stderr and a non-zero exit code. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return EXIT.ok;
      process.stderr.write(`vao: ${err.message.replace(/^error: /, '')}\n`);
      return EXIT.usage;
    }
    if (err instanceof UsageError || err instanceof InputError || err instanceof ConfigError) {
      process.stderr.write(`vao: ${err.message.replace(/\n\s*/g, ' ')}\n`);
      return EXIT.usage;
    }
    if (err instanceof ProviderError) {
      process.stderr.write(`vao: ${err.message}\n`);
      return EXIT.failed;
    }
    const message = (err as Error).message ?? String(err);
    process.stderr.write(`vao: ${message.split('\n')[0]}\n`);
    return EXIT.failed;
  }
}

if (require.main === module || process.argv[1]?.endsWith('vao.js')) {
  void runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
