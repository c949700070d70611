#!/usr/bin/env node
import { main } from './cli/index.js';

// Exit explicitly once the command is done: a keep-alive socket or a closed daemon's
// lingering timer must not hold the process (pino flushes its buffer on exit).
main(process.argv.slice(2)).then(
  (code) => setImmediate(() => process.exit(code)),
  (err: unknown) => {
    process.stderr.write(`nodee: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
