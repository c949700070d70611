// Port ranges for test daemons whose services really listen. Daemons of parallel test files
// (separate processes) handing out the same port would answer each other's checks, so each
// daemon claims a block of its own, machine-wide: a file per block, created exclusively, with
// the owner's pid; a block whose owner died is taken over; the blocks are given back at exit.
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const DIR = '/tmp/nodee-test-port-blocks';
const claimed = [];
process.on('exit', () => {
  for (const f of claimed) {
    try {
      unlinkSync(f);
    } catch {}
  }
});

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** A block of `size` ports from `base` up to `limit` (exclusive), this process's until it exits. */
export function portBlock(base, limit, size = 10) {
  mkdirSync(DIR, { recursive: true });
  for (let from = base; from + size <= limit; from += size) {
    const file = path.join(DIR, String(from));
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(file, String(process.pid), { flag: 'wx' });
        claimed.push(file);
        return { from, to: from + size - 1 };
      } catch (err) {
        if (err.code !== 'EEXIST') throw err;
        const owner = Number(readFileSync(file, 'utf8'));
        if (owner && alive(owner)) break;
        try {
          unlinkSync(file);
        } catch {}
      }
    }
  }
  throw new Error(`no free block of ${size} ports in ${base}-${limit}`);
}
