import { condition, continueAsNew, getExternalWorkflowHandle, log, setHandler, workflowInfo } from '@temporalio/workflow';
import { adhocSessionSignal, capacityDemandSignal, capacityGrantSignal, governorStateQuery, type GovernorView } from './messages';

interface Holder {
  want: number;
  live: number;
  grant: number;
  seenAt: number;
}

export interface GovernorState {
  capacity: number;
  holders: Record<string, Holder>;
  /** Ad-hoc sessions by workflow id, with the time they end at the latest. */
  adhoc: Record<string, number>;
}

/** Campaigns re-announce every minute; one silent for five (terminated, say) gives its share back. */
const HOLDER_TTL_MS = 5 * 60_000;
const IDLE_EXIT_MS = 10 * 60_000;

/**
 * Max-min fair shares of `available` for the given demands: nobody gets more than they want, and the
 * rest is split evenly (the remainder in holder-id order, so every replay decides the same).
 */
export function fairShares(available: number, wants: Record<string, number>): Record<string, number> {
  const shares: Record<string, number> = {};
  let left = Math.max(0, available);
  let open = Object.keys(wants).sort();
  for (const id of open) shares[id] = 0;
  while (left > 0 && open.length > 0) {
    const each = Math.max(1, Math.floor(left / open.length));
    const next: string[] = [];
    for (const id of open) {
      if (left === 0) break;
      const give = Math.min(each, wants[id]! - shares[id]!, left);
      shares[id]! += give;
      left -= give;
      if (shares[id]! < wants[id]!) next.push(id);
    }
    open = next;
  }
  return shares;
}

/**
 * One per agent (`capacity:<provider>:<agent>`): splits the agent's live-session capacity between the
 * campaigns dialling on it, fairly, after setting aside what ad-hoc sessions use. Grants never exceed what
 * is free: a campaign above its new share keeps its live calls and drains to the share, and the slots it
 * frees go to the others as it reports them. Ad-hoc sessions are never delayed: they report after they
 * started, and campaigns make room.
 */
export async function capacityGovernor(input: { agent: string; resume?: GovernorState }): Promise<void> {
  const state: GovernorState = input.resume ?? { capacity: 0, holders: {}, adhoc: {} };
  let changes = 0;
  setHandler(capacityDemandSignal, ({ holder, want, live, capacity }) => {
    if (capacity !== null) state.capacity = capacity;
    if (want <= 0 && live <= 0) delete state.holders[holder];
    else state.holders[holder] = { want, live, grant: state.holders[holder]?.grant ?? -1, seenAt: Date.now() };
    changes++;
  });
  setHandler(adhocSessionSignal, ({ workflowId, live, untilMs }) => {
    if (live) state.adhoc[workflowId] = untilMs;
    else delete state.adhoc[workflowId];
    changes++;
  });
  setHandler(governorStateQuery, (): GovernorView => ({
    capacity: state.capacity,
    adhocLive: Object.keys(state.adhoc).length,
    holders: Object.fromEntries(Object.entries(state.holders).map(([id, h]) => [id, { want: h.want, live: h.live, grant: h.grant }])),
  }));

  let idleSince = Date.now();
  for (;;) {
    const now = Date.now();
    for (const [id, h] of Object.entries(state.holders)) if (now - h.seenAt > HOLDER_TTL_MS) delete state.holders[id];
    for (const [id, until] of Object.entries(state.adhoc)) if (until < now) delete state.adhoc[id];

    const available = Math.max(0, state.capacity - Object.keys(state.adhoc).length);
    const targets = fairShares(available, Object.fromEntries(Object.entries(state.holders).map(([id, h]) => [id, h.want])));
    // Nobody dials beyond what is free: start from what each has live (capped by its share), then hand the
    // free slots to those below their share.
    // A holder may have as many calls live as it was last allowed, even if it reported fewer a while ago
    // (holders report their live count only when it matters): count that, not the stale report.
    const grants: Record<string, number> = {};
    let free = available;
    for (const [id, h] of Object.entries(state.holders)) {
      const occupied = Math.max(h.live, h.grant);
      grants[id] = Math.min(targets[id]!, occupied);
      free -= occupied;
    }
    for (const id of Object.keys(grants).sort()) {
      const extra = Math.max(0, Math.min(targets[id]! - grants[id]!, free));
      grants[id]! += extra;
      free -= extra;
    }
    for (const [id, grant] of Object.entries(grants)) {
      const holder = state.holders[id]!;
      if (holder.grant === grant) continue;
      holder.grant = grant;
      await getExternalWorkflowHandle(id)
        .signal(capacityGrantSignal, { limit: grant })
        .catch(() => {
          log.info('Capacity holder is gone', { holder: id });
          delete state.holders[id];
        });
    }

    if (Object.keys(state.holders).length > 0 || Object.keys(state.adhoc).length > 0) idleSince = Date.now();
    else if (Date.now() - idleSince >= IDLE_EXIT_MS) return;
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > 5000) {
      await continueAsNew<typeof capacityGovernor>({ agent: input.agent, resume: state });
    }
    const seen = changes;
    await condition(() => changes !== seen, 60_000);
  }
}
