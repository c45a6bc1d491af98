import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { governorWorkflowId } from '../domain/campaign';

/**
 * Whether the agent's capacity governor runs (a campaign on the agent started it), cached for 2 s per
 * agent: ad-hoc sessions tell a running governor, and skip the signal (a failed signal and a workflow task
 * each) when there is none.
 */
export function governorWatchFrom(client: Client): (provider: 'pipecat' | 'videosdk', agent: string) => Promise<boolean> {
  const cache = new Map<string, { running: boolean; until: number }>();
  return async (provider, agent) => {
    const id = governorWorkflowId(provider, agent);
    const hit = cache.get(id);
    if (hit && hit.until > Date.now()) return hit.running;
    const running = await client.workflow
      .getHandle(id)
      .describe()
      .then(
        (d) => d.status.name === 'RUNNING',
        (err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return false;
          throw err;
        },
      );
    cache.set(id, { running, until: Date.now() + 2000 });
    return running;
  };
}
