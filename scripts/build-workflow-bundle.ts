/**
 * Builds the workflow bundle once, ahead of deployment: a worker started with VAO_WORKFLOW_BUNDLE
 * skips webpack at start-up (seconds and ~200 MB less), and every replica runs byte-identical
 * workflow code, which is what replay safety is judged against.
 *   npm run build:bundle [-- out/path.js]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../src/worker';

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: undefined });
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, code);
  process.stdout.write(`workflow bundle: ${out} (${(code.length / 1024).toFixed(0)} KiB)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`build:bundle failed: ${(err as Error).message}\n`);
  process.exit(1);
});
