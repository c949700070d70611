import { z } from 'zod';
import { parseConnectString } from './connect-string.js';

/**
 * The one definition of nodee's configuration: the zod schema validates the YAML file
 * (unknown keys are errors, so a typo never silently falls back to a default) and its
 * inferred type is what the rest of the code receives, frozen.
 */
const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/, 'must be HOST:PORT (IPv6 as [::1]:PORT)')
  .refine((s) => Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, 'port must be at most 65535');

export const DEFAULT_NODES_PATH = '/meta/cell/nodes';
export const nodesPathSchema = z.string().regex(/^(\/[^/\s]+)+$/, 'must be an absolute znode path like /meta/cell/nodes');

/** A node's labels (config `labels`), and the labels a scheduled job's constraints name: one grammar for both. */
export const labelsSchema = z
  .record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/, 'label names are letters, digits, ".", "_", "/" or "-"'), z.string().max(256))
  .refine((l) => Object.keys(l).length <= 64, 'at most 64 labels');

const checksumPolicy = z.enum(['require', 'if-present', 'ignore']);

export const repositorySchema = z
  .object({
    url: z
      .string()
      .regex(/^(https?|file):\/\//, 'must be an http://, https:// or file:// URL template')
      .refine((u) => u.includes('{artifactId}') || u.includes('{version}'), 'must contain {artifactId} or {version}'),
    checksum: checksumPolicy.default('if-present'),
  })
  .strict();

export const configSchema = z
  .object({
    prefix: z.string().min(1).default('/var/lib/nodee'),
    instance: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/, 'must be letters, digits, ".", "_" or "-"')
      .optional(),
    api: z
      .object({
        listen: hostPort.default('127.0.0.1:7070'),
        tokenFile: z.string().min(1).optional(),
        tls: z.object({ cert: z.string().min(1), key: z.string().min(1) }).strict().optional(),
        /** Largest request body accepted, in bytes. */
        bodyLimitBytes: z.number().int().positive().default(1024 * 1024),
        /** More host names (Host header, any port) the API answers to, e.g. behind a reverse proxy. */
        allowedHosts: z.array(z.string().regex(/^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/, 'must be a host name or address, without a port')).default([]),
      })
      .strict()
      .prefault({}),
    zookeeper: z
      .object({
        connect: z
          .string()
          .min(1)
          .superRefine((connect, ctx) => {
            try {
              parseConnectString(connect);
            } catch (err) {
              ctx.addIssue({ code: 'custom', message: `${(err as Error).message} (want host:port[,host:port...][/chroot])` });
            }
          }),
        sessionTimeoutMs: z.number().int().min(1000).max(600000).default(10000),
        nodesPath: nodesPathSchema.default(DEFAULT_NODES_PATH),
        digestFile: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    repositories: z.array(repositorySchema).default([]),
    limits: z
      .object({
        artifactMaxBytes: z.number().int().positive().default(4 * 1024 ** 3),
        artifactMaxFiles: z.number().int().positive().default(200000),
      })
      .strict()
      .prefault({}),
    /** Artifact, `files[].url` and `restore.url` downloads. */
    downloads: z
      .object({
        connectTimeoutMs: z.number().int().positive().default(10000),
        /** From the connection to the response headers. */
        headersTimeoutMs: z.number().int().positive().default(30000),
        /** Longest silence while a body flows: a server that drips a byte now and then fails here. */
        idleTimeoutMs: z.number().int().positive().default(60000),
      })
      .strict()
      .prefault({}),
    ports: z
      .object({
        from: z.number().int().min(1).max(65535).default(20000),
        to: z.number().int().min(1).max(65535).default(29999),
      })
      .strict()
      .refine((p) => p.from <= p.to, { message: 'from must not exceed to', path: ['from'] })
      .prefault({}),
    logs: z
      .object({
        /** A service log file is rotated when it passes this size. */
        maxBytes: z.number().int().positive().default(10 * 1024 * 1024),
        /** Rotated files kept: stdout.log.1 ... stdout.log.N. */
        keep: z.number().int().min(1).max(100).default(5),
      })
      .strict()
      .prefault({}),
    /**
     * What this node offers to reservations (`resources` of services). A key left out is
     * measured at start-up: the machine's memory less 10 %, its cores, the disk free under prefix.
     */
    capacity: z
      .object({
        memoryMB: z.number().positive().optional(),
        cpu: z.number().positive().optional(),
        diskMB: z.number().positive().optional(),
      })
      .strict()
      .prefault({}),
    /** Free-form labels, published for placement constraints. */
    labels: labelsSchema.default({}),
    /** Fleet scheduling over ZooKeeper (docs/scheduler.md): on by default wherever zookeeper is set. */
    scheduler: z
      .object({
        enabled: z.boolean().default(true),
        /** A node whose record has been gone this long is lost: its instances are placed elsewhere. */
        lostAfterMs: z.number().int().min(1000).max(86_400_000).default(30_000),
        /** Run scheduled specs without `user` (as root). Off: such an assignment is refused, and says so. */
        allowRoot: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    cgroup: z
      .object({
        /**
         * Where service cgroups are made: `auto` is the daemon's own cgroup when systemd delegated
         * it (Delegate=yes), else /nodee/<instance>; or an absolute cgroup path.
         */
        parent: z
          .string()
          .regex(/^auto$|^(\/[A-Za-z0-9._@-]+)+$/, 'must be "auto" or an absolute cgroup path like /nodee/a')
          .refine((p) => !p.split('/').some((s) => s === '.' || s === '..'), 'must not hold "." or ".." segments')
          .default('auto'),
        /**
         * Remount the cgroup2 hierarchy with `favordynmods` (kernel 6.0+): moving a new process
         * into its cgroup no longer waits for an RCU grace period (restarts ~10 ms faster), at a
         * small cost to every fork and exit on the host. Host-wide; false leaves the mount alone.
         */
        favorDynmods: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type RepositoryConfig = z.infer<typeof repositorySchema>;
export type ZookeeperConfig = NonNullable<Config['zookeeper']>;
