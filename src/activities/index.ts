import { createDeployActivities, type DeployActivityDeps } from './deploy';

export type ActivityDeps = DeployActivityDeps;

/** Every activity the worker registers, built from injected clients so tests swap endpoints, not code. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createDeployActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
