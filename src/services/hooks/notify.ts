import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { NotifyHub, NotifyMessage } from '../../notify/index.js';
import type { HookContext, LaunchPlan, ServiceHook } from './hook.js';

export interface NotifyDeps {
  hub: NotifyHub;
  /** `<prefix>/run`: root's; each service's socket is in `<runDir>/<coordinate>/notify.sock`. */
  runDir: string;
}

/**
 * systemd's Type=notify and WatchdogSec for the spec's `notify` (docs/notify.md): the service
 * gets NOTIFY_SOCKET (and WATCHDOG_USEC), READY=1 makes it ready (the RecordKeeper derives
 * `ready` from `notified`), STATUS= is its statusText, STOPPING=1 and RELOADING=1 make it
 * not ready until the next READY=1, and a watchdog that is not fed in time ends the process,
 * which the restart policy treats as a failure with `lastExit.reason: "watchdog"`.
 *
 * The socket lives in a directory of root's outside the runtime dir, so the daemon's relay
 * binds and unlinks a path no service user can change; only the service's user can send.
 */
export function notifyHook(ctx: HookContext, deps: NotifyDeps): ServiceHook {
  const dir = path.join(deps.runDir, ctx.coordinate);
  const enabled = (): boolean => ctx.spec.notify.ready || ctx.spec.notify.watchdogMs > 0;
  let socketPath: string | undefined;
  /** Messages count only while a process of this daemon's watch runs: a late datagram of a dead one is ignored. */
  let watching = false;
  let watchdog: NodeJS.Timeout | undefined;

  const onMessage = (m: NotifyMessage): void => {
    if (!watching) return;
    if (m.watchdog === 'ping') watchdog?.refresh();
    if (m.watchdogUsec !== undefined && m.watchdogUsec > 0) arm(Math.max(1, Math.round(m.watchdogUsec / 1000)));
    const patch: { notified?: boolean; statusText?: string } = {};
    if (m.status !== undefined) patch.statusText = m.status;
    // READY=1 after RELOADING=1 in one datagram ends the reload: ready wins
    if (m.stopping || m.reloading) patch.notified = false;
    if (m.ready) patch.notified = true;
    if (Object.keys(patch).length > 0) ctx.health(patch);
    if (m.mainPid !== undefined) ctx.log.debug({ coordinate: ctx.coordinate, mainPid: m.mainPid }, 'MAINPID= ignored: nodee watches the process it started and its cgroup');
    if (m.watchdog === 'trigger') ctx.unhealthy('watchdog');
  };

  /** (Re)starts the watchdog: the service must send WATCHDOG=1 within `ms`, and again within `ms` of each. */
  function arm(ms: number): void {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      watchdog = undefined;
      if (watching) ctx.unhealthy('watchdog');
    }, ms);
    watchdog.unref();
  }

  function quiet(): void {
    watching = false;
    clearTimeout(watchdog);
    watchdog = undefined;
  }

  async function open(plan: LaunchPlan | undefined): Promise<string> {
    const user = plan?.user;
    socketPath = (await deps.hub.open(ctx.coordinate, { dir, ...(user ? { uid: user.uid, gid: user.gid } : {}) }, onMessage)).socketPath;
    return socketPath;
  }

  async function close(): Promise<void> {
    quiet();
    socketPath = undefined;
    await deps.hub.close(ctx.coordinate);
  }

  return {
    name: 'notify',
    async prestart(plan: LaunchPlan): Promise<void> {
      if (!enabled()) return;
      // a policy restart keeps the socket bound a moment ago; anything else binds it afresh
      plan.env.NOTIFY_SOCKET = plan.again && socketPath ? socketPath : await open(plan);
      if (ctx.spec.notify.watchdogMs > 0) plan.env.WATCHDOG_USEC = String(ctx.spec.notify.watchdogMs * 1000);
      ctx.health({ notified: false, statusText: null });
    },
    poststart(live, plan): void {
      if (!enabled()) return;
      watching = true;
      if (ctx.spec.notify.watchdogMs > 0) arm(ctx.spec.notify.watchdogMs);
      // an adopted process kept its NOTIFY_SOCKET path: bind it again (the relay died with the old daemon)
      if (live.isAdopted && !socketPath) {
        open(plan).catch((err: unknown) => ctx.log.error({ err, coordinate: ctx.coordinate }, 'cannot bind the notify socket of an adopted service again'));
      }
    },
    exited: async () => quiet(),
    stop: close,
    async remove(): Promise<void> {
      await close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
