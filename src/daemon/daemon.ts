import { mkdirSync } from 'node:fs';
import { sealStateDir } from '../lib/json-store.js';
import os from 'node:os';
import type Router from '@koa/router';
import path from 'node:path';
import { ApiServer } from '../api/index.js';
import { ArtifactStore, artifactRoutes } from '../artifacts/index.js';
import type { LoadedConfig } from '../config/index.js';
import type { NodeStatus } from '../contract/index.js';
import type { Logger } from '../lib/log.js';
import { createMetricsRegistry, type Registry } from '../lib/metrics.js';
import { version } from '../lib/version.js';
import { Presence, buildRecord } from '../registry/index.js';
import { Supervisor, serviceRoutes } from '../services/index.js';
import { advertisedUrl } from './advertise.js';
import { PrefixLock } from './prefix-lock.js';
import { readMachine, resolveCapacity } from './status.js';
import { Cgroups } from '../cgroups/index.js';
import { Scheduling } from './scheduling.js';
import { ClusterView, cellPathOf, clusterRoutes } from '../scheduler/index.js';

/** The changes of a service the ZooKeeper record shows (besides its state). */
const RECORD_FIELDS: ReadonlySet<string> = new Set(['pid', 'ready', 'spec']);

/** Each capability's API routes, mounted by the API server after its own. */
export function capabilityRouters(store: ArtifactStore, supervisor: Supervisor, cluster: () => ClusterView | undefined = () => undefined): Router[] {
  return [artifactRoutes(store), serviceRoutes(supervisor), clusterRoutes(cluster)];
}

/** Machine figures (load, memory, disk) in the ZooKeeper record are refreshed this often. */
const MACHINE_REFRESH_MS = 30_000;

/**
 * The composition root: builds the artifact store, the supervisor, the API and the
 * ZooKeeper presence, and wires their events. Two ways out: stop() for the daemon exiting
 * (services keep running, to be re-adopted) — there is no path here that stops services.
 */
export class Daemon {
  readonly metrics: Registry;
  private readonly log: Logger;
  private readonly startedAt = new Date().toISOString();
  private store!: ArtifactStore;
  private supervisor!: Supervisor;
  private api!: ApiServer;
  private presence: Presence | undefined;
  private scheduling: Scheduling | undefined;
  private clusterView: ClusterView | undefined;
  private lock: PrefixLock | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  /** Where other hosts reach the console; fixed once the API listens. */
  private consoleUrl = 'http://127.0.0.1/';

  constructor(
    private readonly loaded: LoadedConfig,
    log: Logger,
  ) {
    this.log = log;
    this.metrics = createMetricsRegistry();
  }

  async start(): Promise<{ url: string }> {
    const { config, instance, token, zkDigest } = this.loaded;
    for (const dir of ['software', 'runtime']) mkdirSync(path.join(config.prefix, dir), { recursive: true });
    // state/ holds every service's env (secrets): root only, also when an older nodee made it 0755
    await sealStateDir(path.join(config.prefix, 'state'));
    this.lock = PrefixLock.acquire(path.join(config.prefix, 'state'));
    this.log.info({ prefix: config.prefix, instance, version }, 'nodee starting');

    const downloadTimeouts = { connectMs: config.downloads.connectTimeoutMs, headersMs: config.downloads.headersTimeoutMs, bodyMs: config.downloads.idleTimeoutMs };
    this.store = new ArtifactStore({
      prefix: config.prefix,
      repositories: config.repositories,
      limits: config.limits,
      timeouts: downloadTimeouts,
      log: this.log.child({ component: 'artifacts' }),
      metrics: this.metrics,
    });
    await this.store.init();
    this.supervisor = new Supervisor({
      prefix: config.prefix,
      ports: config.ports,
      logs: config.logs,
      limits: config.limits,
      downloadTimeouts,
      log: this.log.child({ component: 'services' }),
      metrics: this.metrics,
      artifacts: this.store,
      capacity: await resolveCapacity(config.capacity, config.prefix),
      cgroups: await Cgroups.detect({ parent: config.cgroup.parent, favorDynmods: config.cgroup.favorDynmods, instance, log: this.log.child({ component: 'cgroups' }) }),
    });
    this.store.setInUseCheck((id) => this.supervisor.usesArtifact(id));
    await this.supervisor.init();

    this.api = new ApiServer({
      listen: config.api.listen,
      tls: config.api.tls,
      token,
      bodyLimitBytes: config.api.bodyLimitBytes,
      allowedHosts: config.api.allowedHosts,
      log: this.log,
      metrics: this.metrics,
      node: {
        status: () => this.status(),
        drain: () => this.supervisor.drainNode(),
        undrain: () => this.supervisor.undrainNode(),
      },
      // the fleet view exists once ZooKeeper is set up below; until then (and standalone) it answers 503
      routers: capabilityRouters(this.store, this.supervisor, () => this.clusterView),
    });
    const { url } = await this.api.start();
    this.consoleUrl = advertisedUrl(url);
    if (!token) {
      // said once, loudly: without a token the API is a root shell for whoever can reach it
      this.log.warn({ listen: config.api.listen }, 'api.tokenFile is not set: every local user and process that can reach the API can run commands as root; set a token');
    }

    if (config.zookeeper) {
      this.presence = new Presence({
        connect: config.zookeeper.connect,
        sessionTimeoutMs: config.zookeeper.sessionTimeoutMs,
        path: `${config.zookeeper.nodesPath}/${instance}`,
        digest: zkDigest,
        // lets a daemon restarted right after kill -9 replace the node its dead process left
        sessionFile: path.join(config.prefix, 'state', 'zookeeper-sessions.json'),
        log: this.log.child({ component: 'zookeeper' }),
        metrics: this.metrics,
      });
      // the record is built when Presence is about to write it, not on every change
      this.presence.setSource(async () => {
        const artifacts = this.store.list();
        const services = this.supervisor.list();
        return buildRecord(await this.status(artifacts, services), artifacts, services, new Date(), this.scheduling?.reconciler.refused());
      });
      this.presence.start();
      this.clusterView = new ClusterView({ client: this.presence.zk, cellPath: cellPathOf(config.zookeeper.nodesPath), nodesPath: config.zookeeper.nodesPath });
      const changed = () => this.presence?.changed();
      this.store.on('change', changed);
      // the record carries every service's state: any committed change, or the node draining
      // ...of what the record shows: a check's output or a STATUS= text is not worth a ZooKeeper write
      this.supervisor.events.on('service', (e) => {
        if (e.from !== e.to || e.changed.some((k) => RECORD_FIELDS.has(k))) changed();
      });
      this.supervisor.events.on('node', changed);
      this.refreshTimer = setInterval(changed, MACHINE_REFRESH_MS);
      this.refreshTimer.unref();
      changed();
      if (config.scheduler.enabled) {
        this.scheduling = new Scheduling({ config, instance, presence: this.presence, store: this.store, supervisor: this.supervisor, protect: zkDigest !== undefined, log: this.log.child({ component: 'scheduler' }), metrics: this.metrics });
        this.scheduling.reconciler.onRefusedChange = changed;
        await this.scheduling.start();
      }
    } else {
      this.log.info('standalone: no zookeeper configured, this node is not registered');
    }
    this.log.info({ url }, 'nodee started');
    return { url };
  }

  /** The node now; callers that already hold the artifact and service lists pass them in. */
  async status(artifacts = this.store.list(), services = this.supervisor.list()): Promise<NodeStatus> {
    const { config, instance } = this.loaded;
    const zk = this.presence?.status();
    return {
      instance,
      hostname: os.hostname(),
      version,
      pid: process.pid,
      state: this.supervisor.nodeState,
      startedAt: this.startedAt,
      console: { url: this.consoleUrl, port: Number(new URL(this.consoleUrl).port) },
      zookeeper: zk
        ? { state: zk.state, path: zk.path, ...(zk.conflict ? { conflict: zk.conflict } : {}) }
        : { state: 'standalone', path: null },
      scheduler: this.scheduling?.status() ?? { enabled: false, leader: false, leaderInstance: null },
      machine: await readMachine(config.prefix),
      counts: { artifacts: artifacts.length, services: services.length, byState: this.supervisor.counts() },
      labels: { ...config.labels },
      resources: this.supervisor.resources(),
      containment: this.supervisor.containment,
    };
  }

  /**
   * Hands the presence a fresh record. One build at a time: changes that arrive while one is
   * under way (status() awaits the disk figures) ask for one more build, not one each.
   */
  /**
   * The daemon is exiting: close the API (requests in flight finish), remove the
   * ZooKeeper node, persist and leave every service running. Safe to call twice.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info('nodee stopping; services keep running');
      if (this.refreshTimer) clearInterval(this.refreshTimer);
      // the election node goes before the session: another daemon leads at once, not after a timeout
      await this.scheduling?.close().catch((err: unknown) => this.log.warn({ err }, 'scheduler did not close cleanly'));
      await Promise.allSettled([this.api?.close(), this.presence?.close()]);
      await this.supervisor?.detach();
      await this.store?.close();
      this.lock?.release();
      this.log.info('nodee stopped');
    })();
    return this.stopping;
  }
}
