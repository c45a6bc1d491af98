import type { z } from 'zod';
import type { CampaignInputSchema } from './campaign-schema';
import type { AgentSessionResult, EndReason } from './session';

// No runtime zod here: workflow code imports this module.
export type CampaignInput = z.input<typeof CampaignInputSchema>;
export type CampaignOptions = z.output<typeof CampaignInputSchema>;

export function campaignWorkflowId(campaignId: string): string {
  return `campaign:${campaignId}`;
}

/** One call attempt's session key: the same (campaign, contact, attempt) can never dial twice. */
export function callSessionKey(campaignId: string, contactId: string, attempt: number): string {
  return `${campaignId}.${contactId}.${attempt}`;
}

export interface CallReport {
  contactId: string;
  attempt: number;
  sessionKey: string;
  result: AgentSessionResult | null;
  /** Set when the attempt never produced a result (e.g. its workflow failed). */
  error: string | null;
}

export interface ContactOutcome {
  contactId: string;
  status: 'completed' | 'failed' | 'skipped' | 'cancelled';
  attempts: number;
  sessionIds: string[];
  endReasons: EndReason[];
  durationSec: number;
}

export interface CampaignProgress {
  total: number;
  pending: number;
  live: number;
  completed: number;
  failed: number;
  skipped: number;
  retriesScheduled: number;
  paused: boolean;
  cancelling: 'graceful' | 'immediate' | null;
}

export interface CampaignResult {
  campaignId: string;
  progress: CampaignProgress;
  outcomes: ContactOutcome[];
}
