import { EventEmitter } from 'node:events';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Config, RepositoryConfig } from '../config/index.js';
import { NodeeError, isNodeeError, messageOf } from '../lib/errors.js';
import { JsonStore, fsyncDir } from '../lib/json-store.js';
import type { Logger } from '../lib/log.js';
import type { Registry } from '../lib/metrics.js';
import { coordinates, expandTemplate, installDir, parseArtifactId, redactUrl, type ArtifactCoordinates } from './artifact-id.js';
import { sidecarDigest, verifyDigest, type ExpectedDigest } from './checksum.js';
import { downloadAndUnpack, type Fetched } from './download-unpack.js';
import { DEFAULT_RETRY, DEFAULT_TIMEOUTS, Fetcher, type FetchTimeouts, type RetryPolicy } from './fetcher.js';
import { measureTree, removeTree, subdirs } from './fs-tree.js';
import { ArtifactMetrics } from './metrics.js';
import type { Artifact } from '../contract/index.js';
import { dirMode, type UnpackResult } from './unpack.js';

export interface InstallRequest {
  url?: string | undefined;
  sha256?: string | undefined;
}

export interface ArtifactStoreOptions {
  prefix: string;
  repositories: RepositoryConfig[];
  limits: Config['limits'];
  log: Logger;
  metrics: Registry;
  /** Tests and benchmarks tune these; the defaults suit a fleet. */
  timeouts?: Partial<FetchTimeouts>;
  retry?: Partial<RetryPolicy>;
  unpackConcurrency?: number;
}

/** What state/artifacts.json keeps per installed artifact. */
interface ArtifactRecord {
  sha256: string | null;
  source: string | null;
  installedAt: string;
  sizeBytes: number;
  fileCount: number;
}

interface Installing {
  coords: ArtifactCoordinates;
  source: string | null;
  progress: { bytes: number; totalBytes: number | null };
  done: Promise<ArtifactRecord>;
}

const RECORDS_VERSION = 1;
const STAGING = '.staging';

/**
 * The immutable `software/` tree. An install downloads into `software/.staging/<tmp>/`
 * (same filesystem), verifies, unpacks, records, then renames into place: the version
 * directory appears complete or not at all, and whatever a crash leaves in staging is
 * deleted by the next init(). Concurrent installs of one id share one download.
 */
export class ArtifactStore extends EventEmitter {
  private readonly softwareDir: string;
  private readonly stagingDir: string;
  private readonly log: Logger;
  private readonly metrics: ArtifactMetrics;
  private readonly fetcher: Fetcher;
  private readonly recordsFile: JsonStore<Record<string, ArtifactRecord>>;
  private readonly records = new Map<string, ArtifactRecord>();
  /** Records written to disk ahead of their rename: every snapshot must keep them. */
  private readonly pending = new Map<string, ArtifactRecord>();
  private readonly installing = new Map<string, Installing>();
  private readonly removing = new Map<string, Promise<void>>();
  private readonly aborter = new AbortController();
  private inUse: (id: string) => boolean = () => false;
  /** list()'s answer while `records` is unchanged. */
  private listed: Artifact[] | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly o: ArtifactStoreOptions) {
    super();
    this.softwareDir = path.join(o.prefix, 'software');
    this.stagingDir = path.join(this.softwareDir, STAGING);
    this.log = o.log;
    this.metrics = new ArtifactMetrics(o.metrics);
    this.recordsFile = new JsonStore(path.join(o.prefix, 'state', 'artifacts.json'), RECORDS_VERSION);
    this.fetcher = new Fetcher({
      log: o.log,
      timeouts: { ...DEFAULT_TIMEOUTS, ...o.timeouts },
      retry: { ...DEFAULT_RETRY, ...o.retry },
      // the archive itself: a repository cannot fill the disk with an endless body
      maxBytes: o.limits.artifactMaxBytes,
    });
  }

  /** The supervisor answers whether a service uses an artifact (remove is then refused). */
  setInUseCheck(fn: (id: string) => boolean): void {
    this.inUse = fn;
  }

  /** Deletes what an interrupted install or remove left in staging, and indexes software/. */
  async init(): Promise<void> {
    await fs.mkdir(this.softwareDir, { recursive: true });
    const leftovers = await fs.readdir(this.stagingDir).catch(() => [] as string[]);
    for (const name of leftovers) await removeTree(path.join(this.stagingDir, name));
    if (leftovers.length > 0) this.log.info({ count: leftovers.length }, 'removed leftovers of interrupted installs');
    await fs.mkdir(this.stagingDir, { recursive: true });

    const saved = (await this.recordsFile.read()) ?? {};
    for (const groupId of await subdirs(this.softwareDir)) {
      if (groupId === STAGING) continue;
      for (const artifactId of await subdirs(path.join(this.softwareDir, groupId))) {
        for (const version of await subdirs(path.join(this.softwareDir, groupId, artifactId))) {
          let c: ArtifactCoordinates;
          try {
            c = coordinates(groupId, artifactId, version);
          } catch {
            this.log.warn({ dir: path.join(this.softwareDir, groupId, artifactId, version) }, 'ignoring a directory that is not an artifact id');
            continue;
          }
          const dir = installDir(this.softwareDir, c);
          // a crash between the rename and the seal leaves the top directory writable
          await fs.chmod(dir, dirMode(undefined)).catch((err: unknown) => this.log.warn({ dir, err: messageOf(err) }, 'cannot make an artifact directory read-only'));
          let record = saved[c.id];
          if (!record) {
            this.log.warn({ id: c.id }, 'artifact directory without a record (placed by hand?): indexing it');
            const { mtime } = await fs.stat(dir);
            record = { sha256: null, source: null, installedAt: mtime.toISOString(), ...(await measureTree(dir)) };
          }
          this.setRecord(c.id, record);
        }
      }
    }
    await this.persist();
    this.metrics.installed.set(this.records.size);
    this.log.info({ artifacts: this.records.size }, 'artifact store ready');
  }

  /**
   * Installs `id` unless it is there already; resolves when it is usable. `created` is
   * false when it was installed before the call.
   */
  async install(id: string, req: InstallRequest = {}): Promise<{ artifact: Artifact; created: boolean }> {
    const c = parseArtifactId(id);
    if (this.closing) throw new NodeeError('SHUTTING_DOWN', 'the daemon is shutting down');
    // a removal under way decides whether the artifact is still there; its failure is its caller's
    await this.removing.get(c.id)?.catch(() => undefined);
    const existing = this.records.get(c.id);
    if (existing) {
      checkRequestedDigest(c.id, existing, req);
      return { artifact: this.toArtifact(c, existing), created: false };
    }
    let run = this.installing.get(c.id);
    if (!run) {
      const progress = { bytes: 0, totalBytes: null };
      const started: Installing = { coords: c, source: req.url ? redactUrl(req.url) : null, progress, done: undefined as unknown as Promise<ArtifactRecord> };
      started.done = this.runInstall(started, req).finally(() => this.installing.delete(c.id));
      this.installing.set(c.id, started);
      run = started;
    }
    const record = await run.done;
    checkRequestedDigest(c.id, record, req);
    return { artifact: this.toArtifact(c, record), created: true };
  }

  /** Installed, or installing with progress; undefined otherwise (also for a malformed id). */
  get(id: string): Artifact | undefined {
    let c: ArtifactCoordinates;
    try {
      c = parseArtifactId(id);
    } catch {
      return undefined;
    }
    const record = this.records.get(c.id);
    if (record) return this.toArtifact(c, record);
    const run = this.installing.get(c.id);
    if (!run) return undefined;
    return {
      ...c,
      state: 'installing',
      path: installDir(this.softwareDir, c),
      sizeBytes: 0,
      fileCount: 0,
      sha256: null,
      source: run.source,
      installedAt: null,
      progress: { ...run.progress },
    };
  }

  /** Installed artifacts only, by id. */
  /** The one way `records` changes, so list()'s cached answer is dropped with it. */
  private setRecord(id: string, record: ArtifactRecord): void {
    this.records.set(id, record);
    this.listed = undefined;
  }

  private deleteRecord(id: string): void {
    this.records.delete(id);
    this.listed = undefined;
  }

  /** Installed artifacts by id; kept until the next install or removal (every publish lists them). */
  list(): Artifact[] {
    return (this.listed ??= [...this.records.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([id, record]) => this.toArtifact(parseArtifactId(id), record)));
  }

  installedPath(id: string): string | undefined {
    if (!this.records.has(id)) return undefined;
    return installDir(this.softwareDir, parseArtifactId(id));
  }

  /** 404 ARTIFACT_NOT_FOUND when not installed, 409 ARTIFACT_IN_USE when a service uses it or it is installing. */
  async remove(id: string): Promise<void> {
    const c = parseArtifactId(id);
    if (this.installing.has(c.id)) throw new NodeeError('ARTIFACT_IN_USE', `${c.id} is being installed`);
    const record = this.records.get(c.id);
    if (!record) throw new NodeeError('ARTIFACT_NOT_FOUND', `${c.id} is not installed`);
    if (this.inUse(c.id)) throw new NodeeError('ARTIFACT_IN_USE', `${c.id} is used by a service; remove the service first`);
    this.deleteRecord(c.id);
    const removal = this.runRemove(c, record);
    this.removing.set(c.id, removal);
    try {
      await removal;
    } finally {
      this.removing.delete(c.id);
    }
  }

  /** Aborts installs in flight and waits for them to clean up. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.aborter.abort(new NodeeError('SHUTTING_DOWN', 'the daemon is shutting down'));
      await Promise.allSettled([...this.installing.values()].map((r) => r.done));
      await Promise.allSettled([...this.removing.values()]);
      await this.fetcher.close();
    })();
    return this.closing;
  }

  private async runRemove(c: ArtifactCoordinates, record: ArtifactRecord): Promise<void> {
    const dir = installDir(this.softwareDir, c);
    const trash = await fs.mkdtemp(path.join(this.stagingDir, 'removing-'));
    try {
      // moving a directory needs write access to it; the rename makes it vanish at once
      await fs.chmod(dir, 0o700);
      await fs.rename(dir, path.join(trash, 'root'));
    } catch (err) {
      this.setRecord(c.id, record);
      await removeTree(trash);
      throw err;
    }
    await this.persist();
    this.metrics.removals.inc();
    this.metrics.installed.set(this.records.size);
    this.log.info({ id: c.id }, 'artifact removed');
    this.emit('change');
    await removeTree(trash);
  }

  private async runInstall(run: Installing, req: InstallRequest): Promise<ArtifactRecord> {
    const c = run.coords;
    const signal = this.aborter.signal;
    const endTotal = this.metrics.duration.startTimer({ phase: 'total' });
    this.metrics.installing.inc();
    // named for the operator who looks into .staging, short enough for NAME_MAX whatever the id
    const staging = await fs.mkdtemp(path.join(this.stagingDir, `${c.artifactId.slice(0, 60)}-${c.version.slice(0, 60)}-`));
    try {
      const archive = path.join(staging, 'archive.zip');
      const root = path.join(staging, 'root');
      const got = await this.fetchAndUnpack(run, req, archive, root, signal);
      await fs.rm(archive);
      const record: ArtifactRecord = {
        sha256: got.sha256,
        source: got.source,
        installedAt: new Date().toISOString(),
        sizeBytes: got.unpacked.bytes,
        fileCount: got.unpacked.files,
      };
      await this.commit(c, root, record);
      endTotal();
      this.metrics.installs.inc({ result: 'installed' });
      this.metrics.installed.set(this.records.size);
      this.log.info({ id: c.id, source: got.source, bytes: got.bytes, files: got.unpacked.files, sizeBytes: got.unpacked.bytes, streamed: got.streamed }, 'artifact installed');
      this.emit('change');
      return record;
    } catch (err) {
      const failure = signal.aborted && !isNodeeError(err) ? (signal.reason as NodeeError) : err;
      const code = isNodeeError(failure) ? failure.code : 'INTERNAL';
      this.metrics.installs.inc({ result: 'failed' });
      this.metrics.failures.inc({ code });
      this.log.warn({ id: c.id, code, err: messageOf(failure) }, 'artifact install failed');
      throw failure;
    } finally {
      this.metrics.installing.dec();
      await removeTree(staging).catch((err: unknown) => this.log.error({ err, staging }, 'cannot clean the staging dir'));
    }
  }

  /** Record first, then rename: a version directory that exists always has its record. */
  private async commit(c: ArtifactCoordinates, root: string, record: ArtifactRecord): Promise<void> {
    const dir = installDir(this.softwareDir, c);
    this.pending.set(c.id, record);
    try {
      await this.persist();
      await fs.mkdir(path.dirname(dir), { recursive: true });
      await fs.rename(root, dir);
    } catch (err) {
      this.pending.delete(c.id);
      await this.persist().catch(() => undefined);
      throw err;
    }
    this.pending.delete(c.id);
    this.setRecord(c.id, record);
    await fs.chmod(dir, dirMode(undefined));
    await fsyncDir(path.dirname(dir));
  }

  private persist(): Promise<void> {
    return this.recordsFile.write(Object.fromEntries([...this.records, ...this.pending].sort(([a], [b]) => (a < b ? -1 : 1))));
  }

  /**
   * Tries each candidate URL in order; the first that has the artifact and verifies wins
   * and is unpacked into `root` (alongside its download when the server allows ranges).
   */
  private async fetchAndUnpack(
    run: Installing,
    req: InstallRequest,
    archive: string,
    root: string,
    signal: AbortSignal,
  ): Promise<{ source: string; sha256: string; bytes: number; unpacked: UnpackResult; streamed: boolean }> {
    const c = run.coords;
    const candidates: { url: string; checksum: RepositoryConfig['checksum'] }[] = req.url
      ? [{ url: req.url, checksum: req.sha256 ? 'ignore' : 'if-present' }]
      : this.o.repositories.map((r) => ({ url: expandTemplate(r.url, c), checksum: r.checksum }));
    if (candidates.length === 0) throw new NodeeError('ARTIFACT_NOT_FOUND', `${c.id}: no repositories are configured and the request gives no url`);
    let lastError: NodeeError | undefined;
    for (const candidate of candidates) {
      const source = redactUrl(candidate.url);
      run.source = source;
      let fetched: Fetched | undefined;
      try {
        const expected: ExpectedDigest | undefined = req.sha256
          ? { algorithm: 'sha256', hex: req.sha256.toLowerCase(), from: 'the request' }
          : await sidecarDigest(this.fetcher, candidate.url, candidate.checksum, signal);
        const endDownload = this.metrics.duration.startTimer({ phase: 'download' });
        fetched = await downloadAndUnpack(this.fetcher, candidate.url, archive, root, {
          signal,
          hashes: expected?.algorithm === 'sha1' ? ['sha256', 'sha1'] : ['sha256'],
          maxBytes: this.o.limits.artifactMaxBytes,
          maxFiles: this.o.limits.artifactMaxFiles,
          concurrency: this.o.unpackConcurrency,
          onBytes: (n) => this.metrics.unpackedBytes.inc(n),
          onProgress: (bytes, total) => {
            // a retry starts again from 0: count what really crossed the wire
            if (bytes > run.progress.bytes) this.metrics.downloadedBytes.inc(bytes - run.progress.bytes);
            run.progress.bytes = bytes;
            run.progress.totalBytes = total;
          },
        });
        endDownload();
        if (!fetched) {
          this.log.debug({ id: c.id, url: source }, 'not in this repository');
          continue;
        }
        if (!expected && candidate.checksum === 'require') {
          throw new NodeeError('CHECKSUM_MISMATCH', `${source} has no .sha256 or .sha1 sidecar, and its repository requires one`);
        }
        verifyDigest(expected, fetched.download.digests, candidate.url);
        // the rest of the unpack, once the download is done (all of it when not streamed)
        const endUnpack = this.metrics.duration.startTimer({ phase: 'unpack' });
        const unpacked = await fetched.finish();
        endUnpack();
        const { bytes, digests } = fetched.download;
        return { source, sha256: digests.sha256 as string, bytes, unpacked, streamed: fetched.streamed };
      } catch (err) {
        await fetched?.abandon();
        if (!isNodeeError(err) || err.code !== 'REPOSITORY_ERROR') throw err;
        this.log.warn({ id: c.id, url: source, err: err.message }, 'repository failed; trying the next one');
        lastError = err;
      }
    }
    throw lastError ?? new NodeeError('ARTIFACT_NOT_FOUND', `${c.id} is not in any repository (tried ${candidates.map((x) => redactUrl(x.url)).join(', ')})`);
  }

  private toArtifact(c: ArtifactCoordinates, r: ArtifactRecord): Artifact {
    return {
      ...c,
      state: 'installed',
      path: installDir(this.softwareDir, c),
      sizeBytes: r.sizeBytes,
      fileCount: r.fileCount,
      sha256: r.sha256,
      source: r.source,
      installedAt: r.installedAt,
      progress: { bytes: r.sizeBytes, totalBytes: r.sizeBytes },
    };
  }
}

/** A PUT that names a sha256 gets exactly that content, or a 422. */
function checkRequestedDigest(id: string, record: ArtifactRecord, req: InstallRequest): void {
  if (!req.sha256 || record.sha256 === null || record.sha256 === req.sha256.toLowerCase()) return;
  throw new NodeeError('CHECKSUM_MISMATCH', `${id} is installed with sha256 ${record.sha256}, not ${req.sha256.toLowerCase()}`);
}
