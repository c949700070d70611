import { z } from 'zod';

/**
 * One health check of a ServiceSpec, as the contract ("Health checks, readiness,
 * dependencies, upgrades") defines it. Strict like the rest of the spec: a misspelt key is a
 * 400 naming it, not a check that silently never runs.
 */
const CHECK_NAME = /^[a-z][a-z0-9_-]{0,31}$/;
// the same grammar as the spec's `ports` (src/services/spec.ts): a named port must be able to exist
const PORT_NAME = /^[a-z][a-z0-9_]{0,31}$/;

export const portSchema = z.union([
  z.string().regex(PORT_NAME, 'a named port is [a-z][a-z0-9_]* (at most 32 characters)'),
  z.number().int().min(1).max(65_535),
]);

const httpSchema = z
  .object({
    port: portSchema,
    // printable ASCII without spaces: it goes verbatim into the request line
    path: z.string().max(1024).regex(/^\/[\x21-\x7e]*$/, 'must start with / and hold no spaces or control characters').default('/'),
  })
  .strict();

const tcpSchema = z.object({ port: portSchema }).strict();

const execSchema = z.array(z.string().min(1).max(4096)).min(1).max(256);

export const checkSchema = z
  .object({
    name: z.string().regex(CHECK_NAME, 'check names are [a-z][a-z0-9_-]* (at most 32 characters)'),
    type: z.enum(['readiness', 'liveness']),
    http: httpSchema.optional(),
    tcp: tcpSchema.optional(),
    exec: execSchema.optional(),
    // below 100 ms a check costs more than it tells; a day is the longest that still means "health"
    intervalMs: z.number().int().min(100).max(86_400_000).default(1000),
    timeoutMs: z.number().int().min(10).max(3_600_000).default(1000),
    failureThreshold: z.number().int().min(1).max(1000).default(3),
    graceMs: z.number().int().min(0).max(86_400_000).default(0),
  })
  .strict()
  .refine(
    (c) => [c.http, c.tcp, c.exec].filter((k) => k !== undefined).length === 1,
    'give exactly one of "http", "tcp" and "exec"',
  );

export const checksSchema = z
  .array(checkSchema)
  // every check has a timer slot and, for exec, a process: a spec cannot ask for unbounded work
  .max(32)
  .refine((cs) => new Set(cs.map((c) => c.name)).size === cs.length, 'check names must be unique')
  .default([]);

export type CheckInput = z.input<typeof checkSchema>;
export type Check = z.infer<typeof checkSchema>;
export type CheckType = Check['type'];
export type Port = z.infer<typeof portSchema>;
