import type { z } from 'zod';

/**
 * The one way a zod failure becomes words for a person: each problem names its key path
 * (`under` is prepended, e.g. the config section being read), an unknown key says so, a bad
 * key of a record (a label name) says what its own schema says, and a missing one says "is
 * required" rather than zod's "expected string, received undefined".
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], o: { under?: string[]; top?: string } = {}): string[] {
  const top = o.top ?? 'body';
  return issues.flatMap((issue) => {
    const key = [...(o.under ?? []), ...issue.path.map(String)].join('.');
    if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => `${key ? `${key}.` : ''}${k}: unknown key`);
    if (issue.code === 'invalid_key') return [`${key || top}: ${issue.issues.map((i) => i.message).join('; ')}`];
    // zod reports the input only when asked (reportInput), so a value of the wrong type would
    // read "is required" if judged by it: its message says which it was
    if (issue.code === 'invalid_type' && key && issue.message.endsWith('received undefined')) return [`${key} is required`];
    return [`${key || top}: ${issue.message}`];
  });
}
