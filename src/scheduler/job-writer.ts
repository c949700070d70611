import { isDeepStrictEqual } from 'node:util';
import type { Job, JobStatus } from '../contract/index.js';
import { NodeeError } from '../lib/errors.js';
import { zkCode } from '../registry/index.js';
import type { ClusterView, JobEntry } from './cluster-view.js';
import { parseJob, splitCoordinate } from './job.js';

/**
 * The writer of `jobs/<name>` (contract: "Fleet scheduling over ZooKeeper"), for `nodee
 * cluster run|scale|stop`. The job znode is its one writer's; the leader writes only the
 * status below it. Every change is a compare-and-set on the znode's version, so two operators
 * changing one job at once both land, one after the other, each version one more than the
 * last; none is lost. Core code: it prints nothing and returns what happened.
 */

/** Attempts of one change against concurrent writers (each attempt reads again). */
const MAX_ATTEMPTS = 20;

export interface JobWriterOptions {
  view: ClusterView;
  /** Put the digest ACL on what is created (`zookeeper.digestFile`: that identity writes, the world reads). */
  protect: boolean;
}

export interface RunOutcome {
  job: Job;
  /** `unchanged`: the stored job is this one already, so nothing was written (a new version would restart every instance). */
  change: 'created' | 'updated' | 'unchanged';
}

export interface StopOutcome {
  name: string;
  /** The version that set count 0 (absent when the stored job could not be read: it was removed as it was). */
  version?: number;
  /** The leader's status showed no instance on a node, and no node reported one, before the deadline. */
  drained: boolean;
}

/**
 * A change of the stored job: `update` makes the job to write from the stored one (undefined:
 * leave it); `create` the job when there is none (else JOB_NOT_FOUND); `overwrite` the job to
 * write over a znode that is not a job (else its error is thrown).
 */
interface Change {
  update: (held: Job) => Job | undefined;
  create?: () => Job;
  overwrite?: (raw: Buffer) => Job;
}

export class JobWriter {
  constructor(private readonly o: JobWriterOptions) {}

  /**
   * Creates the job (version 1) or updates it (the stored version plus one). The version in
   * `input`, if any, is ignored: nodee keeps the count. A job equal to the stored one is not
   * written again. Throws 400 BAD_REQUEST (every problem named) before writing anything.
   */
  async runJob(input: unknown): Promise<RunOutcome> {
    const wanted = parseJob(input);
    const r = await this.change(wanted.name, {
      update: (held) => (isDeepStrictEqual({ ...held, version: 0 }, { ...wanted, version: 0 }) ? undefined : { ...wanted, version: held.version + 1 }),
      create: () => ({ ...wanted, version: 1 }),
      overwrite: (raw) => ({ ...wanted, version: versionIn(raw) + 1 }),
    });
    return { job: r.job, change: r.change };
  }

  /** Sets the job's count (0 … 1000), a new version; unchanged when it is that count already. */
  async scaleJob(name: string, count: number): Promise<{ job: Job; from: number; changed: boolean }> {
    let from = count;
    const r = await this.change(name, {
      update: (held) => {
        from = held.count;
        // the parser checks the count as it checks a job file's
        return held.count === count ? undefined : parseJob({ ...held, count, version: held.version + 1 });
      },
    });
    return { job: r.job, from, changed: r.change !== 'unchanged' };
  }

  /**
   * Stops a job: count 0 (a new version), then waits up to `waitMs` until the leader's status
   * shows no instance on a node and no node reports one, then removes `jobs/<name>/status`
   * and `jobs/<name>`. The job goes after the deadline all the same: the leader removes the
   * assignments of a job that is gone. A job that cannot be read is removed as it is.
   */
  async stopJob(name: string, o: { waitMs: number; pollMs?: number }): Promise<StopOutcome> {
    let job: Job | undefined;
    let zkVersion: number;
    try {
      ({ job, zkVersion } = await this.change(name, { update: (held) => (held.count === 0 ? undefined : parseJob({ ...held, count: 0, version: held.version + 1 })) }));
    } catch (err) {
      // a job that cannot be read has no instances: the leader ignores it already
      if (!(err instanceof UnreadableJob)) throw err;
      zkVersion = err.zkVersion;
    }
    const last = job;
    // each poll may read every node record: twice a second is plenty for a drain measured in seconds
    const drained = last ? (await this.o.view.until(name, (e) => this.gone(name, last.version, e), o.waitMs, o.pollMs ?? 500)) !== undefined : true;
    await this.remove(name, zkVersion);
    return { name, ...(job ? { version: job.version } : {}), drained };
  }

  /** No instance of the job left anywhere, as far as the leader (at `version` or later) and the nodes say. */
  private async gone(name: string, version: number, e: JobEntry | null): Promise<boolean> {
    const status: JobStatus | null | undefined = e?.status;
    if (e && (!status || status.version < version || status.instances.some((i) => i.node !== null))) return false;
    const nodes = await this.o.view.nodes();
    return !nodes.some((n) => n.record?.services.some((s) => splitCoordinate(s.coordinate)?.job === name));
  }

  /**
   * Removes the job at `version` with its status, in one transaction: the leader may write a
   * status at any moment, and a job removed apart from its status would find one there again
   * (NOT_EMPTY). Tried again while what is there changes under it.
   */
  private async remove(name: string, version: number): Promise<void> {
    const jobPath = `${this.o.view.jobsPath}/${name}`;
    const statusPath = `${jobPath}/status`;
    const client = this.o.view.client;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const withStatus = (await client.exists(statusPath)) !== null;
      try {
        if (withStatus) await client.multi([{ op: 'remove', path: statusPath }, { op: 'remove', path: jobPath, version }]);
        else await client.remove(jobPath, version);
        return;
      } catch (err) {
        const code = zkCode(err);
        // alone, NO_NODE is the job removed by someone else: what was asked is done
        if (code === 'NO_NODE' && !withStatus) return;
        if (code === 'BAD_VERSION') throw new NodeeError('BAD_REQUEST', `job ${name} was changed by someone else while stopping; it was not removed (stop it again)`);
        // NO_NODE in the transaction: the status went meanwhile; NOT_EMPTY: one came
        if (code !== 'NO_NODE' && code !== 'NOT_EMPTY') throw err;
      }
    }
    throw new NodeeError('BAD_REQUEST', `job ${name} could not be removed: ${jobPath} keeps getting children besides its status`);
  }

  /**
   * Applies a change to the stored job as a compare-and-set on the znode's version, reading
   * again after a concurrent write. Resolves the job as it now is and the znode's version.
   */
  private async change(name: string, c: Change): Promise<{ job: Job; zkVersion: number; change: RunOutcome['change'] }> {
    const view = this.o.view;
    const client = view.client;
    const jobPath = `${view.jobsPath}/${name}`;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const stored = await view.stored(name);
      if (!stored) {
        if (!c.create) throw new NodeeError('JOB_NOT_FOUND', `no job ${name}`);
        const job = c.create();
        try {
          await client.create(jobPath, encode(job), { ephemeral: false, protect: this.o.protect });
          return { job, zkVersion: 0, change: 'created' }; // a new znode's data version is 0
        } catch (err) {
          const code = zkCode(err);
          if (code === 'NO_NODE') await client.mkdirs(view.jobsPath, this.o.protect);
          else if (code !== 'NODE_EXISTS') throw err;
          continue;
        }
      }
      let job: Job | undefined;
      if ('value' in stored.decoded) {
        job = c.update(stored.decoded.value);
        if (!job) return { job: stored.decoded.value, zkVersion: stored.stat.version, change: 'unchanged' };
      } else if (c.overwrite) {
        job = c.overwrite(stored.data);
      } else {
        throw new UnreadableJob(name, stored.decoded.error, stored.stat.version);
      }
      try {
        const stat = await client.setData(jobPath, encode(job), stored.stat.version);
        return { job, zkVersion: stat.version, change: 'updated' };
      } catch (err) {
        if (zkCode(err) !== 'BAD_VERSION' && zkCode(err) !== 'NO_NODE') throw err;
      }
    }
    throw new NodeeError('BAD_REQUEST', `job ${name} changes too often to be written; try again`);
  }
}

/** The stored job is not one (garbage, or another job's name): said with why. */
class UnreadableJob extends NodeeError {
  constructor(
    name: string,
    why: string,
    readonly zkVersion: number,
  ) {
    super('BAD_REQUEST', `job ${name} cannot be read (${why}): run it again with nodee cluster run FILE, or stop it`);
  }
}

/** The version a znode that is not a job names, if any (0 otherwise): a job written over it still counts up. */
function versionIn(raw: Buffer): number {
  try {
    const v = (JSON.parse(raw.toString('utf8')) as { version?: unknown }).version;
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 ? v : 0;
  } catch {
    return 0;
  }
}

function encode(job: Job): Buffer {
  return Buffer.from(JSON.stringify(job));
}
