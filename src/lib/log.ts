import pino from 'pino';

export type Logger = pino.Logger;

/**
 * JSON lines on stdout, one object per event: journald keeps them as they are and
 * `jq` reads them. Anything that may hold a secret is redacted by path so that a
 * careless `log.info({config})` still cannot leak a token or a ZooKeeper digest.
 */
export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.NODEE_LOG_LEVEL ?? 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          'token',
          '*.token',
          'authorization',
          '*.authorization',
          'headers.authorization',
          'req.headers.authorization',
          'digest',
          '*.digest',
          'password',
          '*.password',
        ],
        censor: '[redacted]',
      },
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

/** A logger that drops everything: for unit tests and tools that must stay quiet. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
