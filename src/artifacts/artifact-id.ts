import path from 'node:path';
import { NodeeError } from '../lib/errors.js';

/** `groupId:artifactId:version`, each part as the contract names it. */
export interface ArtifactCoordinates {
  id: string;
  groupId: string;
  artifactId: string;
  version: string;
}

const PART = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
const MAX_PART = 128;

function checkPart(what: string, value: string): void {
  // PART already rules out "." and ".." (they cannot start with a dot): no path escapes
  if (value.length > MAX_PART || !PART.test(value)) {
    throw new NodeeError(
      'BAD_REQUEST',
      `${what} "${value.slice(0, 140)}" must be letters, digits, ".", "_", "+" or "-", start with a letter or digit, and be at most ${MAX_PART} characters`,
    );
  }
}

export function coordinates(groupId: string, artifactId: string, version: string): ArtifactCoordinates {
  checkPart('groupId', groupId);
  checkPart('artifactId', artifactId);
  checkPart('version', version);
  return { id: `${groupId}:${artifactId}:${version}`, groupId, artifactId, version };
}

/** Parses `g:a:v`; a malformed id is a 400. */
export function parseArtifactId(id: string): ArtifactCoordinates {
  const parts = id.split(':');
  if (parts.length !== 3) throw new NodeeError('BAD_REQUEST', `artifact id "${id.slice(0, 400)}" must be groupId:artifactId:version`);
  return coordinates(parts[0] as string, parts[1] as string, parts[2] as string);
}

/** `<software>/<groupId>/<artifactId>/<version>` */
export function installDir(softwareDir: string, c: ArtifactCoordinates): string {
  return path.join(softwareDir, c.groupId, c.artifactId, c.version);
}

/** A repository URL template filled in; each value is URL-safe already (see PART). */
export function expandTemplate(template: string, c: ArtifactCoordinates): string {
  return template
    .replaceAll('{groupId}', c.groupId)
    .replaceAll('{groupPath}', c.groupId.replaceAll('.', '/'))
    .replaceAll('{artifactId}', c.artifactId)
    .replaceAll('{version}', c.version);
}

/** A URL as it may appear in logs and the API: without user:password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    return u.toString();
  } catch {
    return url;
  }
}
