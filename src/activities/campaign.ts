import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { countContactRows, formatOf, readContactsPage, type ContactsFormat } from '../campaign/contacts';
import type { ContactOutcome, ContactsCursor, ContactsPage } from '../domain/campaign';
import type { PipecatClient } from '../providers/pipecat/client';
import { withFailureMapping } from './failures';
import { postSignedJson } from './webhook';

export interface CampaignActivityDeps {
  pipecat: PipecatClient;
  /** Signs consent and results webhooks. */
  webhookSigningSecret?: string;
  timeoutMs?: number;
}

export interface ResultsSink {
  file?: string;
  format?: 'jsonl' | 'csv';
  webhookUrl?: string;
}

export interface DialCheck {
  campaignId: string;
  contactId: string;
  phone?: string;
  attempt: number;
  doNotCallFile?: string;
  consent?: { url: string; timeoutMs: number };
}

const normalizePhone = (value: string) => value.replace(/[^\d+]/g, '');

const CSV_COLUMNS = ['campaignId', 'contactId', 'status', 'reason', 'line', 'attempts', 'sessionIds', 'endReasons', 'durationSec', 'batch'] as const;
const csvCell = (value: unknown): string => {
  const text = value === undefined || value === null ? '' : Array.isArray(value) ? value.join(' ') : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

export function createCampaignActivities(deps: CampaignActivityDeps) {
  // Do-not-call lists are read once per file version, not once per dial.
  const dncCache = new Map<string, { mtimeMs: number; size: number; entries: Set<string> }>();
  async function doNotCallEntries(file: string): Promise<Set<string>> {
    const info = await stat(file);
    const cached = dncCache.get(file);
    if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached.entries;
    const entries = new Set<string>();
    for (const raw of (await readFile(file, 'utf8')).split(/\r?\n/)) {
      const first = raw.split(',')[0]!.trim().replace(/^"|"$/g, '');
      if (!first || first.startsWith('#')) continue;
      entries.add(first);
      const phone = normalizePhone(first);
      if (phone.replace('+', '').length >= 3) entries.add(phone);
    }
    dncCache.set(file, { mtimeMs: info.mtimeMs, size: info.size, entries });
    return entries;
  }

  async function appendOnce(file: string, format: 'jsonl' | 'csv', batchId: string, rows: Array<Record<string, unknown>>): Promise<boolean> {
    await mkdir(dirname(file), { recursive: true });
    const handle = await open(file, 'a+');
    try {
      const { size } = await handle.stat();
      // A retried activity may have written this batch already: batches go in order, so look at the tail.
      const tailSize = Math.min(size, 256 * 1024);
      const tail = Buffer.alloc(tailSize);
      if (tailSize > 0) await handle.read(tail, 0, tailSize, size - tailSize);
      if (tail.toString('utf8').includes(batchId)) return false;
      const text =
        format === 'jsonl'
          ? rows.map((r) => `${JSON.stringify(r)}\n`).join('')
          : (size === 0 ? `${CSV_COLUMNS.join(',')}\n` : '') + rows.map((r) => `${CSV_COLUMNS.map((c) => csvCell(r[c])).join(',')}\n`).join('');
      await handle.appendFile(text);
      await handle.sync();
      return true;
    } finally {
      await handle.close();
    }
  }

  return {
    /** The agent's live-session capacity (Pipecat `maxAgents`), or null when the platform does not say. */
    async agentCapacity(input: { provider: 'pipecat' | 'videosdk'; agentName?: string }): Promise<number | null> {
      return withFailureMapping(async () => {
        if (input.provider !== 'pipecat') return null;
        const agent = await deps.pipecat.getAgent(input.agentName!);
        if (!agent) throw ApplicationFailure.nonRetryable(`Pipecat Cloud agent ${input.agentName} not found`, 'AgentNotFound');
        return agent.autoScaling?.maxReplicas ?? agent.deployment?.manifest?.spec?.autoScaling?.maxReplicas ?? null;
      });
    },

    /** Checks the campaign's files before anyone is dialled; returns the number of contact rows. */
    async prepareCampaignFiles(input: { contactsFile?: { path: string; format?: ContactsFormat }; doNotCallFile?: string }): Promise<{ rows: number | null }> {
      return withFailureMapping(async () => {
        const readable = async (file: string, field: string) => {
          try {
            await stat(file);
          } catch (err) {
            throw ApplicationFailure.nonRetryable(`Invalid campaign input: ${field}: cannot read ${file} (${(err as NodeJS.ErrnoException).code})`, 'InvalidInput');
          }
        };
        if (input.doNotCallFile) {
          await readable(input.doNotCallFile, 'doNotCall.file');
          await doNotCallEntries(input.doNotCallFile);
        }
        if (!input.contactsFile) return { rows: null };
        await readable(input.contactsFile.path, 'contactsFile.path');
        return { rows: await countContactRows(input.contactsFile.path, formatOf(input.contactsFile.path, input.contactsFile.format)) };
      });
    },

    async readContactsPage(input: { path: string; format?: ContactsFormat; cursor: ContactsCursor | null; limit: number }): Promise<ContactsPage> {
      return withFailureMapping(async () => {
        return readContactsPage(input.path, formatOf(input.path, input.format), input.cursor, input.limit);
      });
    },

    /**
     * Runs right before each dial (a local activity, so it adds no task round trip). Fails closed: a
     * do-not-call list that cannot be read, or a consent webhook that does not answer 2xx `{"allow": true}`
     * in time, means no call.
     */
    async checkBeforeDial(input: DialCheck): Promise<{ allow: true } | { allow: false; reason: string }> {
      if (input.doNotCallFile) {
        let entries: Set<string>;
        try {
          entries = await doNotCallEntries(input.doNotCallFile);
        } catch (err) {
          log.warn('Do-not-call list unreadable; not dialling', { contactId: input.contactId, error: (err as Error).message });
          return { allow: false, reason: 'do-not-call-unavailable' };
        }
        if (entries.has(input.contactId) || (input.phone && entries.has(normalizePhone(input.phone)))) return { allow: false, reason: 'do-not-call' };
      }
      if (input.consent) {
        try {
          const answer = (await postSignedJson(
            input.consent.url,
            { event: 'consent-check', campaignId: input.campaignId, contactId: input.contactId, phone: input.phone ?? null, attempt: input.attempt },
            { secret: deps.webhookSigningSecret, timeoutMs: input.consent.timeoutMs, what: 'ConsentWebhook' },
          )) as { allow?: unknown } | null;
          if (answer?.allow !== true) return { allow: false, reason: 'no-consent' };
        } catch (err) {
          log.warn('Consent webhook failed; not dialling', { contactId: input.contactId, error: (err as Error).message });
          return { allow: false, reason: 'consent-unavailable' };
        }
      }
      return { allow: true };
    },

    /**
     * Writes final contact outcomes to the results sink: a JSONL/CSV file (appended once per batch, even
     * when this activity is retried) and/or a signed webhook with `Idempotency-Key: <batch>`.
     */
    async recordOutcomes(input: { campaignId: string; batchId: string; outcomes: ContactOutcome[]; sink: ResultsSink }): Promise<{ written: number }> {
      return withFailureMapping(async () => {
        const rows = input.outcomes.map((o) => ({ campaignId: input.campaignId, ...o, batch: input.batchId }));
        if (input.sink.file) {
          const format = input.sink.format ?? (/\.csv$/i.test(input.sink.file) ? 'csv' : 'jsonl');
          await appendOnce(input.sink.file, format, input.batchId, rows);
        }
        if (input.sink.webhookUrl) {
          await postSignedJson(
            input.sink.webhookUrl,
            { event: 'campaign-results', campaignId: input.campaignId, batch: input.batchId, outcomes: input.outcomes },
            { secret: deps.webhookSigningSecret, timeoutMs: deps.timeoutMs ?? 10_000, headers: { 'idempotency-key': input.batchId }, what: 'ResultsWebhook' },
          );
        }
        return { written: rows.length };
      });
    },
  };
}

export type CampaignActivities = ReturnType<typeof createCampaignActivities>;
