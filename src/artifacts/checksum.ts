import type { RepositoryConfig } from '../config/index.js';
import { NodeeError } from '../lib/errors.js';
import { redactUrl } from './artifact-id.js';
import type { Fetcher, HashName } from './fetcher.js';

export interface ExpectedDigest {
  algorithm: HashName;
  hex: string;
  /** Where the expectation came from, for messages. */
  from: string;
}

const HEX_LENGTH: Record<HashName, number> = { sha256: 64, sha1: 40 };

/** Maven sidecars hold the hex digest, sometimes followed by a file name (sha256sum's format). */
function parseSidecar(text: string, algorithm: HashName, url: string): string {
  const word = text.trim().split(/\s+/)[0] ?? '';
  if (word.length !== HEX_LENGTH[algorithm] || !/^[0-9a-fA-F]+$/.test(word)) {
    throw new NodeeError('CHECKSUM_MISMATCH', `${redactUrl(url)} does not hold a ${algorithm} digest`);
  }
  return word.toLowerCase();
}

/**
 * The digest an artifact must have according to its repository's policy: `<url>.sha256`,
 * else `<url>.sha1`. Undefined when the policy is `ignore` or no sidecar exists; whether
 * that is acceptable (`require`) is decided once the artifact itself is known to exist.
 */
export async function sidecarDigest(
  fetcher: Fetcher,
  url: string,
  policy: RepositoryConfig['checksum'],
  signal: AbortSignal,
): Promise<ExpectedDigest | undefined> {
  if (policy === 'ignore') return undefined;
  for (const algorithm of ['sha256', 'sha1'] as const) {
    const sidecar = `${url}.${algorithm}`;
    const text = await fetcher.text(sidecar, signal);
    if (text !== undefined) return { algorithm, hex: parseSidecar(text, algorithm, sidecar), from: redactUrl(sidecar) };
  }
  return undefined;
}

export function verifyDigest(expected: ExpectedDigest | undefined, actual: Partial<Record<HashName, string>>, url: string): void {
  if (!expected) return;
  const got = actual[expected.algorithm];
  if (got !== expected.hex) {
    throw new NodeeError(
      'CHECKSUM_MISMATCH',
      `${redactUrl(url)} has ${expected.algorithm} ${got ?? 'unknown'}, but ${expected.from} says ${expected.hex}`,
    );
  }
}
