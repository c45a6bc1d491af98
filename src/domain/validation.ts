import type { z } from 'zod';

/** "field.path: message; other: message" — one line naming every bad field. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k)).join(', ');
        return `unknown field(s) ${keys}`;
      }
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

export class InputError extends Error {
  override readonly name = 'InputError';
}

/** Parses or throws an `InputError` whose message names every bad field. */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new InputError(`Invalid ${what} input: ${describeIssues(parsed.error)}`);
  return parsed.data;
}
