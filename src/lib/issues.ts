import type { z } from 'zod';

/**
 * The one way a zod failure becomes words for a person: each problem names its key path
 * (`under` is prepended, e.g. the config section being read), an unknown key says so, and
 * a missing one says "is required" rather than zod's "expected string, received undefined".
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], o: { under?: string[]; top?: string } = {}): string[] {
  const top = o.top ?? 'body';
  return issues.flatMap((issue) => {
    const key = [...(o.under ?? []), ...issue.path.map(String)].join('.');
    if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => `${key ? `${key}.` : ''}${k}: unknown key`);
    if (issue.code === 'invalid_type' && issue.input === undefined && key) return [`${key} is required`];
    return [`${key || top}: ${issue.message}`];
  });
}
