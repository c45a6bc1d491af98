import { createReadStream, readFileSync } from 'node:fs';
import { parse as parseStream } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import type { ContactsCursor, ContactsPage } from '../domain/campaign';
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

// ---- Paged reading, for campaigns whose contacts live in a file of any size ----

export type ContactsFormat = 'csv' | 'jsonl';

export function formatOf(file: string, format?: ContactsFormat): ContactsFormat {
  return format ?? (/\.jsonl?$/i.test(file) ? 'jsonl' : 'csv');
}

/** Lines of a byte stream with the byte offset just past each one (exact, unlike readline on CRLF files). */
async function* linesWithOffsets(file: string, start: number): AsyncGenerator<{ text: string; end: number }> {
  let carry = Buffer.alloc(0);
  let base = start;
  for await (const chunk of createReadStream(file, { start }) as AsyncIterable<Buffer>) {
    let buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    let from = 0;
    for (let nl = buf.indexOf(10, from); nl !== -1; nl = buf.indexOf(10, from)) {
      yield { text: buf.subarray(from, nl).toString('utf8'), end: base + nl + 1 };
      from = nl + 1;
    }
    base += from;
    buf = buf.subarray(from);
    carry = Buffer.from(buf);
  }
  if (carry.length) yield { text: carry.toString('utf8'), end: base + carry.length };
}

/**
 * Up to `limit` contacts from `cursor` on (null: the start), with the rows that did not parse and the
 * cursor of the next page (null at the end). Byte offsets make each page cost only its own rows.
 */
export async function readContactsPage(file: string, format: ContactsFormat, cursor: ContactsCursor | null, limit: number): Promise<ContactsPage> {
  const contacts: ContactsPage['contacts'] = [];
  const problems: ContactsPage['problems'] = [];
  const at = cursor ?? { offset: 0, line: 0, header: null };
  const accept = (line: number, record: Record<string, unknown>) => {
    const contact = toContact(record);
    if (typeof contact === 'string') {
      const id = typeof record.contactId === 'string' && record.contactId ? record.contactId : undefined;
      problems.push({ line, reason: contact, ...(id ? { contactId: id } : {}) });
    } else contacts.push({ ...contact, line });
  };

  if (format === 'jsonl') {
    let line = at.line;
    let offset = at.offset;
    for await (const { text, end } of linesWithOffsets(file, at.offset)) {
      line++;
      offset = end;
      if (text.trim() !== '') {
        try {
          const value = JSON.parse(text) as unknown;
          if (!value || typeof value !== 'object' || Array.isArray(value)) problems.push({ line, reason: 'not a JSON object' });
          else accept(line, value as Record<string, unknown>);
        } catch (err) {
          problems.push({ line, reason: `invalid JSON: ${(err as Error).message}` });
        }
      }
      if (contacts.length + problems.length >= limit) return { contacts, problems, next: { offset, line, header: null } };
    }
    return { contacts, problems, next: null };
  }

  const pending: ContactsPage['problems'] = [];
  const parser = createReadStream(file, { start: at.offset }).pipe(
    parseStream({
      columns: at.header ?? true,
      skip_empty_lines: true,
      trim: true,
      bom: at.offset === 0,
      info: true,
      relax_column_count_less: true,
      skip_records_with_error: true,
      on_skip: (err: { message: string; lines?: number } | undefined) => {
        if (err) pending.push({ line: at.line + (err.lines ?? 0), reason: err.message });
      },
    }),
  );
  let header = at.header;
  let last: ContactsCursor | null = null;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number; bytes: number; columns?: Array<{ name: string }> } }>) {
      header ??= (info.columns ?? []).map((c) => c.name);
      const line = at.line + info.lines;
      // Skipped rows are reported in file order, before the record that follows them.
      while (pending.length && pending[0]!.line < line) problems.push(pending.shift()!);
      accept(line, record);
      last = { offset: at.offset + info.bytes, line, header };
      if (contacts.length + problems.length >= limit) return { contacts, problems, next: last };
    }
  } finally {
    parser.destroy();
  }
  problems.push(...pending);
  return { contacts, problems, next: null };
}

/** Rows (valid or not) in a contacts file: the campaign's total, for progress and ETA. */
export async function countContactRows(file: string, format: ContactsFormat): Promise<number> {
  let rows = 0;
  for (let cursor: ContactsCursor | null = null, first = true; first || cursor; first = false) {
    const page: ContactsPage = await readContactsPage(file, format, cursor, 5000);
    rows += page.contacts.length + page.problems.length;
    cursor = page.next;
  }
  return rows;
}
