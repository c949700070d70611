import { execFileSync } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '../helpers/tmp.mjs';

export const E2E_ART = 'com.example:e2e:1.0.0';

/** A real ZIP of service scripts (Info-ZIP keeps the executable bits). */
export async function scriptsZip(t, extra = {}) {
  const dir = await tempDir(t, 'nodee-e2e-zip-');
  const src = path.join(dir, 'src');
  const files = {
    'bin/sleeper': '#!/bin/sh\necho "started $NODEE_COORDINATE on $NODEE_PORT_HTTP"\nexec sleep 1000\n',
    'bin/crash': '#!/bin/sh\necho crash >&2\nexit 3\n',
    ...extra,
  };
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(src, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
    await chmod(file, name.startsWith('bin/') ? 0o755 : 0o644);
  }
  const zip = path.join(dir, 'e2e.zip');
  execFileSync('zip', ['-qr', zip, '.'], { cwd: src });
  return zip;
}

/** Installs the scripts artifact into a running daemon through its API. */
export async function installScripts(t, d, extra, version = '1.0.0') {
  const zip = await scriptsZip(t, extra);
  const [group, name] = E2E_ART.split(':');
  const res = await d.api('PUT', `/v1/artifacts/${group}/${name}/${version}`, { url: `file://${zip}` });
  if (res.status !== 201 && res.status !== 200) throw new Error(`install failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}
