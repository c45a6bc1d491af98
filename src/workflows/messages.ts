// Queries, signals and updates, kept apart from workflow code so clients can import them cheaply.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DeployStatus } from '../domain/deploy';
import type { CallReport, CampaignProgress } from '../domain/campaign';
import type { SealedStartInfo, SessionStatus } from '../domain/session';

export const deployStatusQuery = defineQuery<DeployStatus>('status');

export const sessionStatusQuery = defineQuery<SessionStatus>('status');
/** Resolves once the platform accepted the session (or fails when it never will). */
export const sessionStartedUpdate = defineUpdate<SealedStartInfo>('started');
/** The session is over (provider webhook, the caller, or anyone who knows). */
export const sessionEndedSignal = defineSignal<[{ source?: string; reason?: string; sessionId?: string }?]>('ended');
/** Graceful stop: goodbye now, grace, then stop. */
export const sessionStopSignal = defineSignal('stop');
/** Stop at once, no goodbye. */
export const sessionStopNowSignal = defineSignal('stopNow');

/** A call attempt reports its outcome to its campaign (by workflow id, so it survives continue-as-new). */
export const callReportSignal = defineSignal<[CallReport]>('callReport');
/** A campaign call has ended on the platform (from its webhook): its slot is free before the call reports. */
export const callEndingSignal = defineSignal<[{ sessionKey: string; sessionId: string }]>('callEnding');
export const campaignProgressQuery = defineQuery<CampaignProgress>('progress');
export const campaignPauseSignal = defineSignal('pause');
export const campaignResumeSignal = defineSignal('resume');
/** graceful: start no new calls, let live ones finish; immediate: also stop live calls now. */
export const campaignCancelSignal = defineSignal<[{ mode: 'graceful' | 'immediate' }?]>('cancel');

/** A campaign tells its agent's governor how many calls it could run now and how many are live. */
export const capacityDemandSignal = defineSignal<[{ holder: string; want: number; live: number; capacity: number | null }]>('capacityDemand');
/** An ad-hoc session (not a campaign's) began or ended on the agent. */
export const adhocSessionSignal = defineSignal<[{ workflowId: string; live: boolean; untilMs: number }]>('adhocSession');
/** The governor's answer to a campaign: live calls it may have now. */
export const capacityGrantSignal = defineSignal<[{ limit: number }]>('capacityGrant');
export const governorStateQuery = defineQuery<GovernorView>('state');

export interface GovernorView {
  capacity: number;
  adhocLive: number;
  holders: Record<string, { want: number; live: number; grant: number }>;
}
