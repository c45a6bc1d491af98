import { ApplicationFailure } from '@temporalio/common';
import { DeployAgentInputSchema } from '../domain/deploy-schema';
import type { AgentSessionOptions } from '../domain/session';
import type { DeployAgentOptions } from '../domain/deploy';
import { AgentSessionInputSchema } from '../domain/session-schema';
import { CampaignInputSchema } from '../domain/campaign-schema';
import type { CampaignOptions } from '../domain/campaign';
import { describeIssues } from '../domain/validation';

/**
 * Workflow inputs are validated with zod in a local activity, not in workflow code: every module a
 * workflow imports is instantiated once per running workflow, and zod with our schemas costs about
 * 1.5 MB each — 3 GB for 2,000 parked sessions. As a local activity it costs one marker event.
 */
function parseOrFail<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: import('zod').ZodError } }, raw: unknown, what: string): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw ApplicationFailure.nonRetryable(`Invalid ${what} input: ${describeIssues(parsed.error)}`, 'InvalidInput');
  return parsed.data;
}

export function createValidationActivities() {
  return {
    async validateDeployAgentInput(raw: unknown): Promise<DeployAgentOptions> {
      return parseOrFail(DeployAgentInputSchema, raw, 'deployAgent');
    },
    async validateAgentSessionInput(raw: unknown): Promise<AgentSessionOptions> {
      return parseOrFail(AgentSessionInputSchema, raw, 'agentSession');
    },
    async validateCampaignInput(raw: unknown): Promise<CampaignOptions> {
      return parseOrFail(CampaignInputSchema, raw, 'campaign');
    },
  };
}
