/**
 * `npm test`: one real Temporal dev server (built once from the Go module proxy when missing) for the
 * whole run, then every test file under node's test runner. Extra arguments select test files.
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { freePort, resolveTemporalCli, startDevServer } from '../src/temporal/dev-server';

function findTests(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) return findTests(full);
      return name.endsWith('.test.ts') ? [full] : [];
    })
    .sort();
}

async function main(): Promise<number> {
  const root = path.resolve(__dirname, '..');
  const selected = process.argv.slice(2);
  const files = selected.length > 0 ? selected : findTests(path.join(root, 'test'));

  const cliPath = await resolveTemporalCli(process.env.TEMPORAL_CLI_PATH || undefined);
  const server = await startDevServer({ cliPath, port: await freePort(), uiPort: null });
  process.stderr.write(`Temporal dev server for tests: ${server.address}\n`);

  try {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, TEMPORAL_TEST_ADDRESS: server.address, TEMPORAL_CLI_PATH: cliPath },
    });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.once('SIGINT', forward);
    process.once('SIGTERM', forward);
    return await new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
  } finally {
    await server.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`test run failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
