import { promises as fs } from 'node:fs';
import path from 'node:path';
import { NodeeError, messageOf } from '../lib/errors.js';
import { artifactManifestSchema, formatIssues, type ArtifactManifest, type ParsedSpec, type ServiceSpec } from './spec.js';

/** The artifact's optional `nodee.json` (absent = no defaults); a broken one is a 400. */
export async function readManifest(softwareDir: string): Promise<ArtifactManifest> {
  const file = path.join(softwareDir, 'nodee.json');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return {};
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new NodeeError('BAD_REQUEST', `the artifact's nodee.json is not JSON (${messageOf(err)})`);
  }
  const parsed = artifactManifestSchema.safeParse(json);
  if (!parsed.success) throw new NodeeError('BAD_REQUEST', `the artifact's nodee.json: ${formatIssues(parsed.error.issues)}`);
  return parsed.data;
}

/** The spec with command, args and ports taken from nodee.json where the spec has none. */
export function withDefaults(spec: ParsedSpec, manifest: ArtifactManifest): ServiceSpec {
  const command = spec.command ?? manifest.command;
  if (!command) throw new NodeeError('BAD_REQUEST', 'command: required (the artifact has no nodee.json with a default command)');
  return { ...spec, command, args: spec.args ?? manifest.args ?? [], ports: spec.ports ?? manifest.ports ?? [] };
}
