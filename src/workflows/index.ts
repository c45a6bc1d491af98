// The workflow bundle's entry point: every workflow the worker runs is exported here.
export { deployAgent } from './deploy-agent';
export { agentSession } from './agent-session';
export { campaign } from './campaign';
export { capacityGovernor } from './capacity-governor';
