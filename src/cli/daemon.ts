import { loadConfig } from '../config/index.js';
import { Daemon } from '../daemon/index.js';
import { isNodeeError, messageOf } from '../lib/errors.js';
import { createLogger } from '../lib/log.js';
import { UsageError, parseArgs, stringOption } from './args.js';

export const USAGE = `usage: nodee daemon --config FILE [--prefix DIR] [--listen HOST:PORT] [--zookeeper CONNECT]
                    [--instance NAME] [--log-level LEVEL]

Runs the daemon in the foreground until SIGTERM/SIGINT (services keep running). The flags
override the config file.
`;

/**
 * `nodee daemon --config FILE [--prefix DIR] [--listen HOST:PORT] [--zookeeper CONNECT]
 * [--instance NAME]`: runs in the foreground until SIGTERM/SIGINT, then exits 0 leaving
 * services running. This is the one place that owns the process: signals and exit.
 */
export async function runDaemon(argv: string[], err: NodeJS.WritableStream): Promise<number> {
  const args = parseArgs(argv, { values: ['config', 'prefix', 'listen', 'zookeeper', 'instance', 'log-level'] });
  if (args.positional.length > 0) throw new UsageError(`unexpected argument ${args.positional[0]}`);
  const log = createLogger({ level: stringOption(args, 'log-level') });
  let daemon: Daemon | undefined;
  try {
    const loaded = loadConfig(stringOption(args, 'config'), {
      prefix: stringOption(args, 'prefix'),
      listen: stringOption(args, 'listen'),
      zookeeper: stringOption(args, 'zookeeper'),
      instance: stringOption(args, 'instance'),
    });
    daemon = new Daemon(loaded, log);
    await daemon.start();
  } catch (e) {
    // start-up problems go both to stderr (the operator at a terminal) and the log (journald)
    err.write(`nodee daemon: ${messageOf(e)}\n`);
    log.fatal({ code: isNodeeError(e) ? e.code : undefined, err: isNodeeError(e) ? undefined : e }, `cannot start: ${messageOf(e)}`);
    await daemon?.stop().catch(() => undefined);
    log.flush();
    return 1;
  }

  return new Promise<number>((resolve) => {
    const shutdown = (signal: string) => {
      log.info({ signal }, 'signal received');
      daemon!.stop().then(
        () => resolve(0),
        (e: unknown) => {
          log.error({ err: e }, 'unclean stop');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
    // a second signal while stopping means "now"
    process.on('SIGHUP', () => log.info('SIGHUP ignored: restart the daemon to reload its configuration'));
    process.on('uncaughtException', (e) => {
      log.fatal({ err: e }, 'uncaught exception; exiting (services keep running and are re-adopted)');
      log.flush();
      process.exit(70);
    });
  });
}
