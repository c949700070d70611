import path from 'node:path';
import { NodeeError } from '../lib/errors.js';

/** Cloudname's coordinate: `instance.service.user.cell`. */
export interface Coordinate {
  instance: number;
  service: string;
  user: string;
  cell: string;
}

const COORDINATE = /^(\d+)\.([a-z][a-z0-9_-]*)\.([a-z][a-z0-9_-]*)\.([a-z][a-z0-9_-]*)$/;
const MAX_INSTANCE = 2147483647;
const MAX_NAME = 63;

/** Why `text` is not a coordinate, or undefined when it is one. */
export function coordinateProblem(text: string): string | undefined {
  const m = COORDINATE.exec(text);
  if (!m) return `"${text}" is not a coordinate (instance.service.user.cell, e.g. 1.myservice.borud.fbu)`;
  const [, instance, ...names] = m as unknown as [string, string, string, string, string];
  // leading zeros would let "01.x.y.z" and "1.x.y.z" name one runtime dir twice
  if (instance.length > 1 && instance.startsWith('0')) return `instance "${instance}" must not have leading zeros`;
  if (instance.length > 10 || Number(instance) > MAX_INSTANCE) return `instance ${instance} is larger than ${MAX_INSTANCE}`;
  const long = names.find((n) => n.length > MAX_NAME);
  if (long) return `"${long}" is longer than ${MAX_NAME} characters`;
  return undefined;
}

/** Parses a coordinate or throws 400 BAD_REQUEST naming what is wrong. */
export function parseCoordinate(text: string): Coordinate {
  const problem = coordinateProblem(text);
  if (problem) throw new NodeeError('BAD_REQUEST', `coordinate: ${problem}`);
  const [instance, service, user, cell] = text.split('.') as [string, string, string, string];
  return { instance: Number(instance), service, user, cell };
}

/** Where a service lives on disk (contract: On disk), from its coordinate. */
export interface ServicePaths {
  /** `<prefix>/runtime/<cell>/<user>/<service>/<instance>`: the service's, its working directory. */
  runtimeDir: string;
  /** `<prefix>/logs/<cell>/<user>/<service>/<instance>`: root's, the service cannot change it. */
  logDir: string;
}

export function servicePathsOf(prefix: string, coordinate: string): ServicePaths {
  const c = parseCoordinate(coordinate);
  const tail = [c.cell, c.user, c.service, String(c.instance)];
  return { runtimeDir: path.join(prefix, 'runtime', ...tail), logDir: path.join(prefix, 'logs', ...tail) };
}
