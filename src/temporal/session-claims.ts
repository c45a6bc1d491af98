import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { SessionClaims } from '../activities/session';
import { SESSION_ID_SEARCH_ATTRIBUTE, SESSION_ID_SEARCH_ATTRIBUTE_NAME } from '../domain/session';
import type { Logger } from '../logging';

/**
 * Makes sure the namespace has the VaoSessionId attribute (registering it when the server lets us), and
 * says whether session workflows may use it. Temporal Cloud registers attributes through its own API:
 * there the operator creates it once (`tcld namespace search-attributes add`).
 */
export async function ensureSessionIdSearchAttribute(client: Client, namespace: string, logger: Logger): Promise<boolean> {
  try {
    const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace });
    if (customAttributes?.[SESSION_ID_SEARCH_ATTRIBUTE_NAME] !== undefined) return true;
    await client.connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: { [SESSION_ID_SEARCH_ATTRIBUTE_NAME]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD },
    });
    logger.info(`Registered the ${SESSION_ID_SEARCH_ATTRIBUTE_NAME} search attribute in namespace ${namespace}`);
    return true;
  } catch (err) {
    logger.warn(
      `The ${SESSION_ID_SEARCH_ATTRIBUTE_NAME} search attribute (Keyword) is missing and could not be registered: a start whose answer is lost ` +
        'ends as ambiguous more often. Register it once with: temporal operator search-attribute create --name VaoSessionId --type Keyword',
      { error: (err as Error).message },
    );
    return false;
  }
}

/** Asks Temporal's visibility which of these session ids a session workflow holds. */
export function sessionClaimsFrom(client: Client): SessionClaims {
  return async (sessionIds) => {
    const claimed = new Set<string>();
    // Platform ids are UUID-like; anything else is left unclaimed rather than spliced into a query.
    const safe = sessionIds.filter((id) => /^[A-Za-z0-9._-]{1,200}$/.test(id));
    if (safe.length === 0) return claimed;
    const query = `${SESSION_ID_SEARCH_ATTRIBUTE_NAME} IN (${safe.map((id) => `'${id}'`).join(', ')})`;
    for await (const workflow of client.workflow.list({ query, pageSize: 100 })) {
      const held = workflow.typedSearchAttributes.get(SESSION_ID_SEARCH_ATTRIBUTE);
      if (held) claimed.add(held);
    }
    return claimed;
  };
}
