import type { z } from 'zod';
import type { CampaignInputSchema, ContactSchema } from './campaign-schema';
import type { AgentSessionResult, EndReason } from './session';

// No runtime zod here: workflow code imports this module.
export type CampaignInput = z.input<typeof CampaignInputSchema>;
export type CampaignOptions = z.output<typeof CampaignInputSchema>;
export type Contact = z.output<typeof ContactSchema>;

export function campaignWorkflowId(campaignId: string): string {
  return `campaign:${campaignId}`;
}

/** One call attempt's session key: the same (campaign, contact, attempt) can never dial twice. */
export function callSessionKey(campaignId: string, contactId: string, attempt: number): string {
  return `${campaignId}.${contactId}.${attempt}`;
}

/** The per-agent capacity governor shared by every campaign and ad-hoc session on that agent. */
export function governorWorkflowId(provider: string, agent: string): string {
  return `capacity:${provider}:${agent}`;
}

export interface CallReport {
  contactId: string;
  attempt: number;
  sessionKey: string;
  result: AgentSessionResult | null;
  /** Set when the attempt never produced a result (e.g. its workflow failed). */
  error: string | null;
}

export type OutcomeStatus = 'completed' | 'failed' | 'skipped' | 'cancelled';

export interface ContactOutcome {
  contactId: string;
  status: OutcomeStatus;
  /** Why it was skipped or failed without a call: do-not-call, no-consent, consent-unavailable, invalid-row, duplicate, already-dialled; ambiguous-start: a start whose answer was lost and whose session could not be identified (maybe called, never redialled). */
  reason?: string;
  /** Source file line, for rows from a contacts file. */
  line?: number;
  attempts: number;
  sessionIds: string[];
  endReasons: EndReason[];
  durationSec: number;
}

export interface CampaignProgress {
  /** Contacts known so far (all of them once the file has been counted). */
  total: number;
  pending: number;
  waitingForWindow: number;
  live: number;
  completed: number;
  failed: number;
  skipped: number;
  retriesScheduled: number;
  paused: boolean;
  cancelling: 'graceful' | 'immediate' | null;
  /** Live calls allowed right now: min(concurrency, the agent governor's share). */
  limit: number;
  /** Seconds to go at the recent completion rate; null until there is a rate. */
  etaSec: number | null;
}

export interface CampaignResult {
  campaignId: string;
  progress: CampaignProgress;
  /** Every contact's outcome for inline lists; file campaigns write them to the results sink only. */
  outcomes: ContactOutcome[];
  sinkErrors: number;
}

/** A contacts-file position: where the next page starts. */
export interface ContactsCursor {
  offset: number;
  line: number;
  header: string[] | null;
}

export interface ContactsPage {
  contacts: Array<Contact & { line: number }>;
  problems: Array<{ line: number; reason: string; contactId?: string }>;
  next: ContactsCursor | null;
}
