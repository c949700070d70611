import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { describeIssues } from '../lib/issues.js';
import { NodeeError, errnoOf } from '../lib/errors.js';
import { configSchema, type Config, type ZookeeperConfig } from './schema.js';

export type { Config, RepositoryConfig, ZookeeperConfig } from './schema.js';
export { configSchema, DEFAULT_NODES_PATH, labelsSchema, nodesPathSchema } from './schema.js';
// the registry connects with the connect string the schema validated
export { parseConnectString, type ConnectString, type ZkServer } from './connect-string.js';

/** Command-line flags that override the file (contract: "Running it"). */
export interface ConfigOverrides {
  prefix?: string;
  listen?: string;
  zookeeper?: string;
  instance?: string;
}

/** The resolved configuration, plus the secrets read from the files it names. */
export interface LoadedConfig {
  config: Readonly<Config>;
  instance: string;
  /** The API token; undefined when api.tokenFile is not set. */
  token: string | undefined;
  /** "user:password" for the ZooKeeper digest ACL; undefined when not configured. */
  zkDigest: string | undefined;
}

/**
 * Reads, validates and freezes the configuration. Every problem is reported at once,
 * each naming its key, so an operator fixes a file in one pass.
 */
export function loadConfig(file: string | undefined, overrides: ConfigOverrides = {}): LoadedConfig {
  const raw = file === undefined ? {} : readYaml(file);
  applyOverrides(raw, overrides);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new NodeeError('CONFIG_INVALID', `invalid configuration${file ? ` in ${file}` : ''}:\n${formatIssues(parsed.error.issues)}`);
  }
  const config = parsed.data;
  config.prefix = path.resolve(config.prefix);
  const token = config.api.tokenFile ? readSecret(config.api.tokenFile, 'api.tokenFile') : undefined;
  const zkDigest = config.zookeeper?.digestFile ? readSecret(config.zookeeper.digestFile, 'zookeeper.digestFile') : undefined;
  if (zkDigest !== undefined && !/^[^:\s]+:\S+$/.test(zkDigest)) {
    throw new NodeeError('CONFIG_INVALID', `invalid configuration: zookeeper.digestFile: must hold "user:password"`);
  }
  return {
    config: deepFreeze(config),
    instance: config.instance ?? os.hostname(),
    token,
    zkDigest,
  };
}

/**
 * The `zookeeper:` section of a daemon config file, for tools that read ZooKeeper directly
 * (`nodee cluster`); undefined when the daemon runs standalone. Unlike loadConfig it reads
 * no secret files: an operator may read the config without being allowed the token.
 */
export function readZookeeperConfig(file: string): ZookeeperConfig | undefined {
  const parsed = configSchema.shape.zookeeper.safeParse(readYaml(file).zookeeper);
  if (!parsed.success) {
    throw new NodeeError('CONFIG_INVALID', `invalid configuration in ${file}:\n${formatIssues(parsed.error.issues, ['zookeeper'])}`);
  }
  return parsed.data;
}

function readYaml(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new NodeeError('CONFIG_INVALID', `cannot read configuration file ${file}: ${errnoOf(err) ?? String(err)}`);
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text, { uniqueKeys: true }) ?? {};
  } catch (err) {
    throw new NodeeError('CONFIG_INVALID', `configuration file ${file} is not valid YAML: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new NodeeError('CONFIG_INVALID', `configuration file ${file} must hold a mapping of keys`);
  }
  return doc as Record<string, unknown>;
}

function applyOverrides(raw: Record<string, unknown>, o: ConfigOverrides): void {
  if (o.prefix !== undefined) raw.prefix = o.prefix;
  if (o.instance !== undefined) raw.instance = o.instance;
  if (o.listen !== undefined) raw.api = { ...asObject(raw.api), listen: o.listen };
  if (o.zookeeper !== undefined) raw.zookeeper = { ...asObject(raw.zookeeper), connect: o.zookeeper };
}

function asObject(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function formatIssues(issues: z.core.$ZodIssue[], under: string[] = []): string {
  return describeIssues(issues, { under, top: '(top level)' })
    .map((line) => `  ${line}`)
    .join('\n');
}

/** A secret file (the API token, the ZooKeeper digest): its trimmed content; unreadable or empty is CONFIG_INVALID naming `key`. */
export function readSecret(file: string, key: string): string {
  let value: string;
  try {
    value = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new NodeeError('CONFIG_INVALID', `invalid configuration: ${key}: cannot read ${file} (${errnoOf(err) ?? 'error'})`);
  }
  if (value === '') throw new NodeeError('CONFIG_INVALID', `invalid configuration: ${key}: ${file} is empty`);
  return value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Splits HOST:PORT (IPv6 in brackets) as validated by the schema. */
export function splitHostPort(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(listen.slice(i + 1)) };
}
