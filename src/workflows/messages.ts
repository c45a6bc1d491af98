// Queries, signals and updates, kept apart from workflow code so clients can import them cheaply.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DeployStatus } from '../domain/deploy';
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
