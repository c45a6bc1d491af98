import assert from 'node:assert/strict';
import { test } from 'node:test';
import { workflowBundle } from './helpers/temporal';

// Every module workflow code imports is instantiated once per running workflow: zod there cost ~1.6 MB per
// cached workflow (docs/benchmarks.md). Validation runs in a local activity instead; keep it that way.
test('the workflow bundle contains no zod and no provider or simulator code', async () => {
  const { code } = await workflowBundle();
  assert.ok(code.includes('agentSession') && code.includes('deployAgent'), 'the bundle holds our workflows');
  for (const forbidden of ['node_modules/zod', 'node_modules/undici', 'src/providers/', 'src/simulators/', 'src/activities/']) {
    assert.equal(code.includes(forbidden), false, `${forbidden} is in the workflow bundle`);
  }
});
