import { createCampaignActivities, type CampaignActivityDeps } from './campaign';
import { createDeployActivities, type DeployActivityDeps } from './deploy';
import { createSessionActivities, type SessionActivityDeps } from './session';
import { createValidationActivities } from './validation';

export type ActivityDeps = DeployActivityDeps & SessionActivityDeps & CampaignActivityDeps;

/** Every activity the worker registers, built from injected clients so tests swap endpoints, not code. */
export function createActivities(deps: ActivityDeps) {
  const session = createSessionActivities(deps);
  const validation = createValidationActivities();
  return {
    ...createDeployActivities(deps),
    ...session,
    ...createCampaignActivities(deps),
    ...validation,

  };
}

export type Activities = ReturnType<typeof createActivities>;
