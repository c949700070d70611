import test from 'ava';
import { MAX_DATAGRAM_BYTES, MAX_STATUS_CHARS, parseNotify } from '../../dist/notify/index.js';

// One datagram in, the facts nodee acts on out. Every row is bytes a service could send.
const msg = (bytes) => parseNotify(typeof bytes === 'string' ? Buffer.from(bytes) : bytes);

const TABLE = [
  ['READY=1', { ready: true }],
  ['READY=1\n', { ready: true }],
  ['READY=0', {}],
  ['READY=yes', {}],
  ['STOPPING=1', { stopping: true }],
  ['RELOADING=1\nMONOTONIC_USEC=123', { reloading: true }],
  ['STATUS=Serving 3 clients', { status: 'Serving 3 clients' }],
  ['STATUS=', { status: '' }],
  ['STATUS=a=b=c', { status: 'a=b=c' }],
  ['STATUS=tab\there\x1b[31mred\x7f\u0085', { status: 'tab here [31mred  ' }],
  ['WATCHDOG=1', { watchdog: 'ping' }],
  ['WATCHDOG=trigger', { watchdog: 'trigger' }],
  ['WATCHDOG=2', {}],
  ['WATCHDOG_USEC=5000000', { watchdogUsec: 5000000 }],
  ['WATCHDOG_USEC=0', {}],
  ['WATCHDOG_USEC=-5', {}],
  ['WATCHDOG_USEC=1e6', {}],
  ['WATCHDOG_USEC= 5', {}],
  ['WATCHDOG_USEC=99999999999999999999', {}],
  ['EXTEND_TIMEOUT_USEC=30000000', { extendTimeoutUsec: 30000000 }],
  ['MAINPID=4242', { mainPid: 4242 }],
  ['MAINPID=1', {}],
  ['MAINPID=0', {}],
  ['MAINPID=4294967296', {}],
  ['ERRNO=2', { errno: 2 }],
  ['ERRNO=0', { errno: 0 }],
  ['ERRNO=99999', {}],
  ['READY=1\nSTATUS=up\nMAINPID=77\nWATCHDOG=1', { ready: true, status: 'up', mainPid: 77, watchdog: 'ping' }],
  ['STATUS=first\nSTATUS=second', { status: 'first' }],
  ['FDSTORE=1\nBARRIER=1\nX_NODEE=1\nready=1', {}],
  ['no equals sign\n=novalue\n\n\n', {}],
  ['', {}],
  ['READY=1\r\n', {}],
  ['\nREADY=1\n\nSTATUS=after blanks', { ready: true, status: 'after blanks' }],
];

for (const [input, expected] of TABLE) {
  test(`parses ${JSON.stringify(input)}`, (t) => {
    t.deepEqual(msg(input), { message: expected });
  });
}

test('NULs split nothing and invalid UTF-8 becomes U+FFFD', (t) => {
  const bytes = Buffer.concat([Buffer.from('STATUS=a'), Buffer.from([0x00, 0xff, 0xc3]), Buffer.from('b\nREADY=1')]);
  t.deepEqual(msg(bytes), { message: { status: 'a \ufffd\ufffdb', ready: true } });
});

test('a STATUS over the limit is cut by code point, never inside a surrogate pair', (t) => {
  const long = '😀'.repeat(MAX_STATUS_CHARS + 10);
  const { message } = msg(`STATUS=${long}\nREADY=1`);
  t.is(Array.from(message.status).length, MAX_STATUS_CHARS);
  t.is(message.status, '😀'.repeat(MAX_STATUS_CHARS));
  t.true(message.ready);
});

test('a datagram over 4 KiB is refused whole; one of exactly 4 KiB is parsed', (t) => {
  const at = (n) => Buffer.concat([Buffer.from('READY=1\nSTATUS='), Buffer.alloc(n - 15, 0x61)]);
  t.is(at(MAX_DATAGRAM_BYTES).length, MAX_DATAGRAM_BYTES);
  t.true(msg(at(MAX_DATAGRAM_BYTES)).message.ready);
  t.deepEqual(msg(at(MAX_DATAGRAM_BYTES + 1)), { refused: 'too-large', bytes: MAX_DATAGRAM_BYTES + 1 });
  t.deepEqual(msg(Buffer.alloc(65536)), { refused: 'too-large', bytes: 65536 });
});

test('random bytes never throw', (t) => {
  for (let i = 0; i < 500; i++) {
    const b = Buffer.alloc(Math.floor(Math.random() * 5000));
    for (let j = 0; j < b.length; j++) b[j] = Math.random() < 0.1 ? 0x0a : Math.floor(Math.random() * 256);
    t.notThrows(() => msg(b));
  }
});
