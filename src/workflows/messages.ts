// Queries, signals and updates, kept apart from workflow code so clients can import them cheaply.
import { defineQuery } from '@temporalio/workflow';
import type { DeployStatus } from '../domain/deploy';

export const deployStatusQuery = defineQuery<DeployStatus>('status');
