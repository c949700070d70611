import os from 'node:os';
import { z } from 'zod';
import { parseArtifactId } from '../artifacts/index.js';
import { checksSchema } from '../health/index.js';
import { NodeeError, messageOf } from '../lib/errors.js';
import { describeIssues } from '../lib/issues.js';
import { coordinateProblem } from './coordinate.js';

/**
 * The ServiceSpec (contract) as one zod schema: unknown keys are errors naming the key,
 * defaults are filled in, and the inferred type is what the rest of src/services uses.
 */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PORT_NAME = /^[a-z][a-z0-9_]{0,31}$/;
const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
const SHA256 = /^[0-9a-f]{64}$/;

const signal = z
  .string()
  .transform((s) => (s.startsWith('SIG') ? s : `SIG${s}`))
  .refine((s) => s in os.constants.signals, 'must be a signal name such as SIGTERM');

const url = z.string().regex(/^(https?|file):\/\//, 'must be an http://, https:// or file:// URL');

/** The artifact store's own parser decides what an artifact id is. */
const artifactIdSchema = z.string().superRefine((id, ctx) => {
  try {
    parseArtifactId(id);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: messageOf(err) });
  }
});

export const serviceSpecSchema = z
  .object({
    coordinate: z.string().superRefine((c, ctx) => {
      const problem = coordinateProblem(c);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    artifact: artifactIdSchema,
    command: z.array(z.string().min(1)).min(1).max(1024).optional(),
    args: z.array(z.string()).max(4096).optional(),
    env: z
      .record(z.string().regex(ENV_NAME, 'environment names are [A-Za-z_][A-Za-z0-9_]*'), z.string())
      .refine((env) => !Object.keys(env).some((k) => k.startsWith('NODEE_')), 'NODEE_* variables are set by nodee')
      .default({}),
    ports: z
      .array(z.string().regex(PORT_NAME, 'port names are [a-z][a-z0-9_]* (at most 32 characters)'))
      .max(64)
      .refine((p) => new Set(p).size === p.length, 'port names must be unique')
      .optional(),
    user: z.string().regex(USER_NAME, 'must be a user name').optional(),
    restart: z
      .object({
        policy: z.enum(['always', 'on-failure', 'never']).default('always'),
        backoffMs: z.number().int().min(0).max(3_600_000).default(100),
        maxBackoffMs: z.number().int().min(0).max(3_600_000).default(30_000),
        limit: z
          .object({
            restarts: z.number().int().min(0).max(1_000_000).default(5),
            windowSeconds: z.number().int().min(1).max(86_400).default(60),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    stop: z
      .object({
        signal: signal.default('SIGTERM'),
        timeoutSeconds: z.number().min(0).max(3600).default(10),
      })
      .strict()
      .prefault({}),
    drain: z
      .object({
        signal: signal.optional(),
        timeoutSeconds: z.number().min(0).max(86_400).default(30),
      })
      .strict()
      .prefault({}),
    files: z
      .array(
        z
          .object({
            from: z.string().min(1).optional(),
            url: url.optional(),
            to: z.string().min(1),
            template: z.boolean().default(false),
          })
          .strict()
          .refine((f) => (f.from === undefined) !== (f.url === undefined), 'give exactly one of "from" and "url"'),
      )
      .max(256)
      .default([]),
    restore: z
      .object({
        url,
        sha256: z.string().regex(SHA256, 'must be 64 lowercase hex digits').optional(),
      })
      .strict()
      .optional(),
    /** Limits (memoryMB, cpu, pids: the cgroup's) and reservations (all four); an absent field is neither. */
    resources: z
      .object({
        // the kernel refuses a memory limit below a few pages, and a service cannot run in less anyway
        memoryMB: z.number().min(4).max(16 * 1024 * 1024).optional(),
        // at least 1 ms of CPU per 100 ms period: the kernel's smallest quota
        cpu: z.number().min(0.01).max(4096).optional(),
        pids: z.number().int().min(1).max(4_194_304).optional(),
        diskMB: z.number().min(0).max(1024 ** 3).optional(),
      })
      .strict()
      .default({}),
    /** Readiness and liveness checks (docs/health.md). */
    checks: checksSchema,
    /** sd_notify over NOTIFY_SOCKET: READY=1 decides readiness, WATCHDOG=1 keeps it alive (docs/notify.md). */
    notify: z
      .object({
        ready: z.boolean().default(false),
        // systemd's WatchdogSec in ms; below 100 ms no scheduler keeps a promise, above a day it means nothing
        watchdogMs: z.union([z.literal(0), z.number().int().min(100).max(86_400_000)]).default(0),
      })
      .strict()
      .prefault({}),
    /** Services of this node that must be ready before this one starts (state `waiting` meanwhile). */
    requires: z
      .array(
        z.string().superRefine((c, ctx) => {
          const problem = coordinateProblem(c);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
      )
      .max(64)
      .refine((r) => new Set(r).size === r.length, 'required coordinates must be unique')
      .default([]),
  })
  // no object-level refinements: the scheduler derives its job spec by omit() (a service requiring itself is a cycle, refused at create)
  .strict();

export type ServiceSpecInput = z.input<typeof serviceSpecSchema>;
export type ParsedSpec = z.infer<typeof serviceSpecSchema>;

/** A spec after defaults from the artifact's nodee.json: command, args and ports are known. */
export type ServiceSpec = ParsedSpec & { command: string[]; args: string[]; ports: string[] };

/** The artifact's optional `nodee.json`: defaults for command, args and ports. */
export const artifactManifestSchema = z.object({
  command: z.array(z.string().min(1)).min(1).optional(),
  args: z.array(z.string()).optional(),
  ports: z.array(z.string().regex(PORT_NAME)).optional(),
});
export type ArtifactManifest = z.infer<typeof artifactManifestSchema>;

/** Validates a ServiceSpec from a client; every problem is reported at once, each naming its field. */
export function parseSpec(input: unknown): ParsedSpec {
  const result = serviceSpecSchema.safeParse(input);
  if (result.success) return result.data;
  throw new NodeeError('BAD_REQUEST', formatIssues(result.error.issues));
}

export function formatIssues(issues: z.core.$ZodIssue[]): string {
  return describeIssues(issues, { top: 'spec' }).join('; ');
}
