import type { FileHandle } from 'node:fs/promises';
import { NodeeError } from '../lib/errors.js';
import { decodeCp437 } from './cp437.js';

/** One entry of a ZIP's central directory, which is the only place we trust for sizes. */
export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  /** Unix permission bits (07777) when the archive recorded them. */
  mode: number | undefined;
  kind: 'file' | 'dir' | 'symlink';
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const EOCD_MIN = 22;
const MAX_COMMENT = 0xffff;
/** Enough of the end of an archive to hold its end records whatever its comment. */
export const TAIL_BYTES = EOCD_MIN + MAX_COMMENT + 20;

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;
/** Hosts whose "external attributes" carry st_mode in the high 16 bits. */
const UNIX_HOSTS = new Set([3 /* Unix */, 19 /* OS X */]);

function bad(message: string): NodeeError {
  return new NodeeError('BAD_ARCHIVE', message);
}

/** Reads `length` bytes at `position`; the archive may be a file or bytes already in memory. */
export type RangeReader = (position: number, length: number) => Promise<Buffer>;

export async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw bad('the archive is truncated');
    done += bytesRead;
  }
  return buf;
}

interface EndRecord {
  entries: number;
  cdSize: number;
  cdOffset: number;
}

/**
 * Finds the end of central directory record (and its ZIP64 twin). The record sits at the
 * end, after a comment of up to 64 KiB, so the last 64 KiB + 22 bytes are searched backwards
 * for a signature whose comment length reaches exactly the end of the file.
 */
async function readEndRecord(read: RangeReader, fileSize: number): Promise<EndRecord> {
  if (fileSize < EOCD_MIN) throw bad('not a ZIP archive (too short)');
  const tailLen = Math.min(fileSize, TAIL_BYTES);
  const tailStart = fileSize - tailLen;
  const tail = await read(tailStart, tailLen);
  for (let i = tailLen - EOCD_MIN; i >= 0; i--) {
    if (tail.readUInt32LE(i) !== EOCD_SIG) continue;
    const commentLen = tail.readUInt16LE(i + 20);
    if (i + EOCD_MIN + commentLen !== tailLen) continue;
    let entries = tail.readUInt16LE(i + 10);
    let cdSize = tail.readUInt32LE(i + 12);
    let cdOffset = tail.readUInt32LE(i + 16);
    if (tail.readUInt16LE(i + 4) !== 0 || tail.readUInt16LE(i + 6) !== 0) throw bad('multi-disk (split) archives are not supported');
    const locatorAt = i - 20;
    if (locatorAt >= 0 && tail.readUInt32LE(locatorAt) === ZIP64_LOCATOR_SIG) {
      const recordOffset = Number(tail.readBigUInt64LE(locatorAt + 8));
      if (recordOffset + 56 > fileSize) throw bad('ZIP64 end record points past the end of the file');
      const rec = await read(recordOffset, 56);
      if (rec.readUInt32LE(0) !== ZIP64_EOCD_SIG) throw bad('ZIP64 end record not found where its locator says');
      entries = Number(rec.readBigUInt64LE(32));
      cdSize = Number(rec.readBigUInt64LE(40));
      cdOffset = Number(rec.readBigUInt64LE(48));
    }
    if (cdOffset + cdSize > fileSize) throw bad('the archive is truncated (central directory past the end)');
    return { entries, cdSize, cdOffset };
  }
  throw bad('not a ZIP archive, or truncated (no end of central directory record)');
}

function decodeName(raw: Buffer, flags: number, extra: Buffer): string {
  // bit 11: the name is UTF-8 (Python, 7-Zip, jar)
  if (flags & 0x800) return raw.toString('utf8');
  // Info-ZIP keeps a UTF-8 copy in its "Unicode Path" extra field (0x7075)
  const unicode = findExtra(extra, 0x7075);
  if (unicode && unicode.length > 5 && unicode[0] === 1) return unicode.subarray(5).toString('utf8');
  // Unix zip writes the bytes it found on disk, which today are UTF-8; only names that are
  // not valid UTF-8 fall back to the format's historical CP437
  const utf8 = raw.toString('utf8');
  return utf8.includes('\uFFFD') ? decodeCp437(raw) : utf8;
}

function findExtra(extra: Buffer, id: number): Buffer | undefined {
  let at = 0;
  while (at + 4 <= extra.length) {
    const header = extra.readUInt16LE(at);
    const len = extra.readUInt16LE(at + 2);
    if (at + 4 + len > extra.length) return undefined;
    if (header === id) return extra.subarray(at + 4, at + 4 + len);
    at += 4 + len;
  }
  return undefined;
}

function entryKind(name: string, madeBy: number, external: number): { kind: ZipEntry['kind']; mode: number | undefined } {
  const host = madeBy >> 8;
  const unixMode = external >>> 16;
  // 7-Zip and some others write a Unix mode with a DOS host; trust the high bits when they
  // carry a file type
  const trusted = unixMode !== 0 && (UNIX_HOSTS.has(host) || (unixMode & S_IFMT) !== 0);
  const type = trusted ? unixMode & S_IFMT : 0;
  const mode = trusted ? unixMode & 0o7777 : undefined;
  if (type === S_IFLNK) return { kind: 'symlink', mode };
  if (name.endsWith('/') || type === S_IFDIR || (external & 0x10) !== 0) return { kind: 'dir', mode };
  if (type !== 0 && type !== S_IFREG) throw new NodeeError('UNSAFE_ARCHIVE', `entry "${name}" is a device, FIFO or socket`);
  return { kind: 'file', mode };
}

/**
 * The central directory through any reader, with its raw bytes: a streamed install reads it
 * from a ranged request before the body, then checks the downloaded file holds the same.
 * `maxEntries` is checked against the end record before the directory is read, so a forged
 * count costs no memory.
 */
export async function parseZipDirectory(read: RangeReader, fileSize: number, maxEntries: number): Promise<{ entries: ZipEntry[]; raw: Buffer; offset: number }> {
  const end = await readEndRecord(read, fileSize);
  if (end.entries > maxEntries) {
    throw new NodeeError('TOO_LARGE', `the archive has ${end.entries} entries, more than limits.artifactMaxFiles (${maxEntries})`);
  }
  // a directory entry takes at least 46 bytes: a count that cannot fit is a lie
  if (end.entries * 46 > end.cdSize) throw bad('central directory is smaller than its entry count');
  const cd = await read(end.cdOffset, end.cdSize);
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let n = 0; n < end.entries; n++) {
    if (at + 46 > cd.length || cd.readUInt32LE(at) !== CENTRAL_SIG) throw bad(`central directory entry ${n} is corrupt`);
    const madeBy = cd.readUInt16LE(at + 4);
    const flags = cd.readUInt16LE(at + 8);
    const method = cd.readUInt16LE(at + 10);
    const crc32 = cd.readUInt32LE(at + 16);
    let compressedSize = cd.readUInt32LE(at + 20);
    let size = cd.readUInt32LE(at + 24);
    const nameLen = cd.readUInt16LE(at + 28);
    const extraLen = cd.readUInt16LE(at + 30);
    const commentLen = cd.readUInt16LE(at + 32);
    const external = cd.readUInt32LE(at + 38);
    let localHeaderOffset = cd.readUInt32LE(at + 42);
    const end46 = at + 46;
    if (end46 + nameLen + extraLen + commentLen > cd.length) throw bad(`central directory entry ${n} runs past the directory`);
    const rawName = cd.subarray(end46, end46 + nameLen);
    const extra = cd.subarray(end46 + nameLen, end46 + nameLen + extraLen);
    at = end46 + nameLen + extraLen + commentLen;

    if (size === 0xffffffff || compressedSize === 0xffffffff || localHeaderOffset === 0xffffffff) {
      const z64 = findExtra(extra, 0x0001);
      if (!z64) throw bad(`entry ${n} needs a ZIP64 extra field and has none`);
      let p = 0;
      const next = (): number => {
        if (p + 8 > z64.length) throw bad(`entry ${n} has a short ZIP64 extra field`);
        const v = Number(z64.readBigUInt64LE(p));
        p += 8;
        return v;
      };
      if (size === 0xffffffff) size = next();
      if (compressedSize === 0xffffffff) compressedSize = next();
      if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
    }
    const name = decodeName(rawName, flags, extra);
    if (flags & 0x1) throw bad(`entry "${name}" is encrypted`);
    if (method !== 0 && method !== 8) throw bad(`entry "${name}" uses compression method ${method}; only stored and deflate are supported`);
    if (localHeaderOffset + 30 + compressedSize > end.cdOffset) throw bad(`entry "${name}" lies outside the archive's data`);
    entries.push({ name, method, flags, crc32, compressedSize, size, localHeaderOffset, ...entryKind(name, madeBy, external) });
  }
  return { entries, raw: cd, offset: end.cdOffset };
}

/** The offset of an entry's data: its local header's name and extra field may differ from the central ones. */
export function dataOffset(entry: ZipEntry, localHeader: Buffer): number {
  if (localHeader.readUInt32LE(0) !== 0x04034b50) throw bad(`local header of "${entry.name}" is missing`);
  return entry.localHeaderOffset + 30 + localHeader.readUInt16LE(26) + localHeader.readUInt16LE(28);
}


