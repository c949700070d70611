import path from 'node:path';
import type { ArtifactStore } from '../artifacts/index.js';
import type { Config } from '../config/index.js';
import type { SchedulerStatus, Service } from '../contract/index.js';
import { isNodeeError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { Presence } from '../registry/index.js';
import { LeaderElection, Reconciler, SchedulerLeader, type NodeOps } from '../scheduler/index.js';
import { AT_REST, awaitService, type Supervisor } from '../services/index.js';
import { Gauge } from 'prom-client';
import type { Registry } from '../lib/metrics.js';

/** How long a scheduled upgrade may take to be ready before it is rolled back. */
const UPGRADE_TIMEOUT_S = 60;

/**
 * This node's part in fleet scheduling (contract: "Fleet scheduling over ZooKeeper"): a
 * candidate in the leader election, the leader loop while it leads, and the reconciler that
 * runs what is assigned here. All share the presence's ZooKeeper session, so the node's record
 * and its election node end together. Absent without ZooKeeper or with `scheduler.enabled: false`.
 */
export class Scheduling {
  private readonly election: LeaderElection;
  private readonly leader: SchedulerLeader;
  readonly reconciler: Reconciler;

  constructor(o: { config: Config; instance: string; presence: Presence; store: ArtifactStore; supervisor: Supervisor; protect: boolean; log: Logger; metrics: Registry }) {
    const zk = o.config.zookeeper!;
    const cellPath = path.posix.dirname(zk.nodesPath);
    const client = o.presence.zk;
    this.election = new LeaderElection({ client, cellPath, instance: o.instance, protect: o.protect, log: o.log });
    this.leader = new SchedulerLeader({ client, election: this.election, cellPath, nodesPath: zk.nodesPath, lostAfterMs: o.config.scheduler.lostAfterMs, protect: o.protect, log: o.log });
    this.reconciler = new Reconciler({
      client,
      path: `${cellPath}/assignments/${o.instance}`,
      jobsPath: `${cellPath}/jobs`,
      ops: nodeOps(o.store, o.supervisor),
      stateDir: path.join(o.config.prefix, 'state'),
      allowRoot: o.config.scheduler.allowRoot,
      log: o.log,
    });
    if (!o.protect) {
      // said once, loudly, like a missing API token: a job is a command every node runs
      o.log.warn(
        { nodesPath: zk.nodesPath },
        'zookeeper.digestFile is not set: anyone who can reach ZooKeeper can write jobs/ and assignments/ and so run commands on every node of the cell; set a digest file',
      );
    }
    const leading = new Gauge({ name: 'nodee_scheduler_leader', help: "Whether this daemon leads the cell's scheduler (1) or not (0)", registers: [o.metrics] });
    leading.set(0);
    this.election.on('leader', () => leading.set(1));
    this.election.on('follower', () => leading.set(0));
    const reconciler = this.reconciler;
    new Gauge({
      name: 'nodee_scheduler_refused',
      help: 'Assignments of this node it will not run (a root spec without allowRoot, a job that does not exist, garbage)',
      registers: [o.metrics],
      collect() {
        this.set(Object.keys(reconciler.refused()).length);
      },
    });
  }

  async start(): Promise<void> {
    this.leader.start();
    this.election.start();
    await this.reconciler.start();
  }

  status(): SchedulerStatus {
    return { enabled: true, leader: this.election.isLeader(), leaderInstance: this.election.leaderInstance() };
  }

  async close(): Promise<void> {
    this.reconciler.close();
    this.leader.close();
    await this.election.close();
  }
}

/** The reconciler's hands on this node: the same operations the API offers, nothing more. */
function nodeOps(store: ArtifactStore, supervisor: Supervisor): NodeOps {
  const find = (coordinate: string): Service | undefined => {
    try {
      return supervisor.get(coordinate);
    } catch (err) {
      if (isNodeeError(err) && err.code === 'SERVICE_NOT_FOUND') return undefined;
      throw err;
    }
  };
  return {
    service: (coordinate) => {
      const s = find(coordinate);
      return s && { artifact: s.artifact, state: s.state };
    },
    install: async (artifact) => {
      if (!store.installedPath(artifact)) await store.install(artifact);
    },
    create: async (spec) => {
      await supervisor.create(spec);
    },
    upgrade: async (coordinate, artifact) => {
      await supervisor.upgrade(coordinate, { artifact, timeoutSeconds: UPGRADE_TIMEOUT_S });
    },
    retire: async (coordinate) => {
      const s = find(coordinate);
      if (!s) return;
      // the spec's drain when it has one (the service finishes its work), else a plain stop
      const drain = (s.spec as { drain?: { signal?: string; timeoutSeconds?: number } }).drain;
      if (drain?.signal && s.state === 'running') {
        await supervisor.drain(coordinate);
        // at rest (or removed) by the drain's own timeout, with a margin; a stop follows otherwise
        await awaitService(supervisor.events, coordinate, (e) => (e.to === null || AT_REST.includes(e.to) ? true : undefined), ((drain.timeoutSeconds ?? 30) + 15) * 1000, () => false).result;
      }
      if (!AT_REST.includes(find(coordinate)?.state ?? 'stopped')) await supervisor.stop(coordinate);
      await supervisor.remove(coordinate, { purge: false });
    },
  };
}
