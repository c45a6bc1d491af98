/**
 * Where a campaign's slot refill goes, from workflow histories (BENCH_DEBUG=1 bench:campaign): for sampled
 * calls, the time from the platform ending a call to the start that reuses its slot, split into hops.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { eventTimeMs, percentile } from './stats';

const E = temporal.api.enums.v1.EventType;
type Event = temporal.api.history.v1.IHistoryEvent;
const at = eventTimeMs;

export async function refillChain(client: Client, sessions: { metaData: Record<string, unknown>; naturalEndAt: number | null; createdAt: number }[], sample = 40): Promise<string> {
  const mid = sessions.slice(Math.floor(sessions.length / 3), Math.floor(sessions.length / 3) + sample);
  const hops: Record<string, number[]> = { 'end→signal': [], 'signal→report sent': [], 'report sent→delivered': [], 'child started→start activity scheduled': [], 'activity scheduled→started': [], 'activity started→platform start': [], 'platform start→update answered': [] };
  for (const s of mid) {
    const workflowId = s.metaData.vaoWorkflowId as string;
    const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const started = events.find((e) => e.eventType === E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)!;
    const scheduled = events.find((e) => e.eventType === E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)!;
    const actStarted = events.find((e) => e.eventType === E.EVENT_TYPE_ACTIVITY_TASK_STARTED)!;
    const actCompleted = events.find((e) => e.eventType === E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)!;
    const signaled = events.find((e) => e.eventType === E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
    const initiated = events.find((e) => e.eventType === E.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED);
    const delivered = events.find((e) => e.eventType === E.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED);
    hops['child started→start activity scheduled']!.push(at(scheduled) - at(started));
    hops['activity scheduled→started']!.push(at(actStarted) - at(scheduled));
    hops['activity started→platform start']!.push(s.createdAt - at(actStarted));
    hops['platform start→update answered']!.push(at(actCompleted) - s.createdAt);
    if (signaled && s.naturalEndAt) hops['end→signal']!.push(at(signaled) - s.naturalEndAt);
    if (signaled && initiated) hops['signal→report sent']!.push(at(initiated) - at(signaled));
    if (initiated && delivered) hops['report sent→delivered']!.push(at(delivered) - at(initiated));
  }
  return Object.entries(hops)
    .map(([k, v]) => `  ${k}: p50 ${percentile(v, 50).toFixed(0)} ms, p95 ${percentile(v, 95).toFixed(0)} ms (n=${v.length})`)
    .join('\n');
}

/** Workflow task timings of one workflow run: how long tasks wait for a worker and how long the worker holds them. */
export async function workflowTaskTimings(client: Client, workflowId: string, runId?: string): Promise<string> {
  const events = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
  const byId = new Map(events.map((e) => [Number(e.eventId), e]));
  const wait: number[] = [];
  const held: number[] = [];
  const gapAfterSignal: number[] = [];
  for (const e of events) {
    if (e.eventType === E.EVENT_TYPE_WORKFLOW_TASK_STARTED) wait.push(at(e) - at(byId.get(Number(e.workflowTaskStartedEventAttributes!.scheduledEventId))!));
    if (e.eventType === E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) held.push(at(e) - at(byId.get(Number(e.workflowTaskCompletedEventAttributes!.startedEventId))!));
  }
  // From each signal to the completion of the first workflow task that started after it.
  for (let i = 0; i < events.length; i++) {
    if (events[i]!.eventType !== E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) continue;
    const done = events.slice(i).find((e) => e.eventType === E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED && Number(e.workflowTaskCompletedEventAttributes!.startedEventId) > Number(events[i]!.eventId));
    if (done) gapAfterSignal.push(at(done) - at(events[i]!));
  }
  const f = (v: number[]) => `p50 ${percentile(v, 50).toFixed(0)} / p95 ${percentile(v, 95).toFixed(0)} ms`;
  return `  ${held.length} workflow tasks: wait for a worker ${f(wait)}, held by the worker ${f(held)}; signal → its task completed ${f(gapAfterSignal)} (n=${gapAfterSignal.length})`;
}
