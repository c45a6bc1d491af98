import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { ContactSchema } from '../domain/campaign-schema';
import { describeIssues } from '../domain/validation';
import type { z } from 'zod';

export type Contact = z.infer<typeof ContactSchema>;
export interface ContactProblem {
  line: number;
  reason: string;
}

const KNOWN = new Set(['contactId', 'phone', 'timeZone']);

function toContact(record: Record<string, unknown>): Contact | string {
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) if (!KNOWN.has(key) && key !== 'data' && value !== '' && value !== undefined) data[key] = value;
  const candidate = {
    contactId: record.contactId,
    ...(record.phone ? { phone: record.phone } : {}),
    ...(record.timeZone ? { timeZone: record.timeZone } : {}),
    data: { ...(typeof record.data === 'object' && record.data ? record.data : {}), ...data },
  };
  const parsed = ContactSchema.safeParse(candidate);
  return parsed.success ? parsed.data : describeIssues(parsed.error);
}

/**
 * Contacts from CSV (a header row; columns contactId, phone, timeZone, any others go to `data`) or JSONL
 * (one object per line). A row that does not parse is reported with its line number and skipped; the
 * rest go on.
 */
export function readContacts(file: string): { contacts: Contact[]; problems: ContactProblem[] } {
  const text = readFileSync(file, 'utf8');
  const contacts: Contact[] = [];
  const problems: ContactProblem[] = [];
  const seen = new Set<string>();
  const accept = (line: number, record: Record<string, unknown>) => {
    const contact = toContact(record);
    if (typeof contact === 'string') problems.push({ line, reason: contact });
    else if (seen.has(contact.contactId)) problems.push({ line, reason: `duplicate contactId ${contact.contactId}` });
    else {
      seen.add(contact.contactId);
      contacts.push(contact);
    }
  };

  if (/\.jsonl?$/i.test(file)) {
    text.split('\n').forEach((raw, i) => {
      if (raw.trim() === '') return;
      try {
        const value = JSON.parse(raw) as unknown;
        if (!value || typeof value !== 'object' || Array.isArray(value)) problems.push({ line: i + 1, reason: 'not a JSON object' });
        else accept(i + 1, value as Record<string, unknown>);
      } catch (err) {
        problems.push({ line: i + 1, reason: `invalid JSON: ${(err as Error).message}` });
      }
    });
    return { contacts, problems };
  }

  const records = parse(text, {
    columns: true,
    skip_empty_lines: true,
    trim: true,
    bom: true,
    info: true,
    relax_column_count_less: true,
    skip_records_with_error: true,
    on_skip: (err: { message: string; lines?: number } | undefined) => {
      if (err) problems.push({ line: err.lines ?? 0, reason: err.message });
    },
  }) as Array<{ record: Record<string, string>; info: { lines: number } }>;
  for (const { record, info } of records) accept(info.lines, record);
  problems.sort((a, b) => a.line - b.line);
  return { contacts, problems };
}
