import { z } from 'zod';
import { labelsSchema } from '../config/index.js';
import type { Assignment, Job } from '../contract/index.js';
import { NodeeError, messageOf } from '../lib/errors.js';
import { describeIssues } from '../lib/issues.js';
import { coordinateProblem, serviceSpecSchema } from '../services/index.js';

/**
 * Jobs and assignments (contract: "Fleet scheduling over ZooKeeper") as zod schemas. A job's
 * spec is checked by the ServiceSpec schema itself, less its coordinate, so a job the
 * scheduler accepts is a spec every node accepts, and the two can never drift apart.
 */

/** Most instances of one job: a cell of a few hundred nodes, and a status znode under 1 MiB. */
export const MAX_COUNT = 1000;

/** Why `name` is not `service.user.cell`, or undefined: the coordinate's own rule, for instance 0. */
function jobNameProblem(name: string): string | undefined {
  const problem = coordinateProblem(`0.${name}`);
  if (problem === undefined) return undefined;
  // the coordinate's words would name "0.<name>", which the user never wrote
  return problem.includes('is not a coordinate') ? `"${name}" is not service.user.cell (e.g. myservice.borud.fbu)` : problem;
}

const jobName = z.string().superRefine((name, ctx) => {
  const problem = jobNameProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const jobSpec = serviceSpecSchema.omit({ coordinate: true });

const jobSchema = z
  .object({
    name: jobName,
    type: z.enum(['service', 'batch']).default('service'),
    count: z.number().int().min(0).max(MAX_COUNT),
    // checked apart from the schema, so a job's spec naming a coordinate hears why not
    spec: z.unknown().optional(),
    constraints: z.object({ labels: labelsSchema.optional() }).strict().optional(),
    maxPerNode: z.number().int().min(1).max(MAX_COUNT).optional(),
    // the CLI sets it (the stored job's plus one); a first job file need not say it
    version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(1),
  })
  .strict();

/**
 * Validates a Job from a user's file or from `jobs/<name>`; throws 400 BAD_REQUEST naming
 * every problem at once. A batch job's restart policy is forced to `never`: the scheduler,
 * not the node, decides whether a failed run is tried again (and on another node).
 */
export function parseJob(input: unknown): Job {
  const top = jobSchema.safeParse(input);
  const problems = top.success ? [] : describeIssues(top.error.issues, { top: 'job' });
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new NodeeError('BAD_REQUEST', problems.join('; '));
  const rawSpec = (input as { spec?: unknown }).spec;
  if (rawSpec !== null && typeof rawSpec === 'object' && 'coordinate' in rawSpec) {
    problems.push('spec.coordinate: a job names no coordinate (instance i is i.<name>)');
  }
  const spec = jobSpec.safeParse(rawSpec === null || typeof rawSpec !== 'object' ? rawSpec : withoutCoordinate(rawSpec));
  if (!spec.success) problems.push(...describeIssues(spec.error.issues, { under: ['spec'], top: 'spec' }));
  if (!top.success || !spec.success || problems.length > 0) throw new NodeeError('BAD_REQUEST', problems.join('; '));
  const { name, type, count, constraints, maxPerNode, version } = top.data;
  if (type === 'batch') spec.data.restart.policy = 'never';
  return {
    name,
    type,
    count,
    spec: spec.data,
    ...(constraints?.labels !== undefined ? { constraints: { labels: constraints.labels } } : {}),
    ...(maxPerNode !== undefined ? { maxPerNode } : {}),
    version,
  };
}

function withoutCoordinate(spec: object): object {
  const { coordinate: _, ...rest } = spec as Record<string, unknown>;
  return rest;
}

/** The coordinate of instance `i` of a job (contract: `i.<name>`). */
export function instanceCoordinate(jobName: string, i: number): string {
  return `${i}.${jobName}`;
}

/** The instance index and job name of a coordinate; undefined when it is not one. */
export function splitCoordinate(coordinate: string): { index: number; job: string } | undefined {
  if (coordinateProblem(coordinate) !== undefined) return undefined;
  const dot = coordinate.indexOf('.');
  return { index: Number(coordinate.slice(0, dot)), job: coordinate.slice(dot + 1) };
}

/** The assignment of instance `i` of a job, made at `now` (ms since the epoch). */
export function assignmentFor(job: Job, i: number, now: number): Assignment {
  return {
    job: job.name,
    jobVersion: job.version,
    spec: { coordinate: instanceCoordinate(job.name, i), ...job.spec },
    assignedAt: new Date(now).toISOString(),
  };
}

// Unknown top-level keys pass (and are dropped), so a node reads what a newer leader wrote;
// the spec is the node's own strict ServiceSpec, as the node is about to run it.
const assignmentSchema = z
  .object({
    job: jobName,
    jobVersion: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    spec: serviceSpecSchema,
    assignedAt: z.iso.datetime({ offset: true }),
  })
  .superRefine((a, ctx) => {
    const c = splitCoordinate(a.spec.coordinate);
    if (c !== undefined && c.job !== a.job) {
      ctx.addIssue({ code: 'custom', path: ['spec', 'coordinate'], message: `"${a.spec.coordinate}" is not an instance of job ${a.job}` });
    }
  });

/** Validates an Assignment (what `assignments/<node>/<coordinate>` holds); throws 400 BAD_REQUEST. */
export function parseAssignment(input: unknown): Assignment {
  const r = assignmentSchema.safeParse(input);
  if (!r.success) throw new NodeeError('BAD_REQUEST', describeIssues(r.error.issues, { top: 'assignment' }).join('; '));
  return r.data;
}

/**
 * Reads a znode's data as JSON through `parse`: anyone may have written anything there, so
 * every failure (empty, not UTF-8 JSON, not valid) is an answer, never a throw.
 */
export function decodeZnode<T>(data: Buffer | string | null | undefined, parse: (input: unknown) => T): { value: T } | { error: string } {
  if (data === null || data === undefined || data.length === 0) return { error: 'empty node' };
  let json: unknown;
  try {
    json = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch {
    return { error: 'not JSON' };
  }
  try {
    return { value: parse(json) };
  } catch (err) {
    return { error: messageOf(err) };
  }
}
