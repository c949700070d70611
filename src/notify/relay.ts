import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';

/**
 * Node has no AF_UNIX SOCK_DGRAM sockets (node:dgram is UDP only) and nodee takes no native
 * addon, so one small Perl process per daemon holds the notify sockets and relays what they
 * receive over its stdin/stdout. It uses only modules of perl-base (Socket, IO::Select), which
 * Debian marks Essential: it is on every host nodee runs on.
 *
 * The protocol is lines of ASCII, one message each, fields separated by one space:
 *
 *   daemon → relay   O <id> <path as hex> <mode, octal> <uid> <gid>   bind a socket (uid/gid -1: keep)
 *                    C <id>                                           close it, unlink its path
 *   relay → daemon   H <pid>                                          hello: the script compiled and runs
 *                    K <id>  |  E <id> <message>                      the answer to each O and C, in order
 *                    D <id> <payload as hex>                          one datagram received
 *
 * Paths and payloads travel as hex, so a service's bytes (newlines, NULs, anything) can never
 * break a line. The relay reads at most `maxBytes` of a datagram (the kernel drops the rest):
 * a 64 KiB datagram costs the pipe 2 × maxBytes, not 128 KiB. Each socket gets at most BURST
 * datagrams per turn of the select loop, so one flooding service does not starve the others;
 * a slow daemon blocks the relay's writes, and the sockets' own queues then push back on the
 * senders. The relay exits when its stdin closes (the daemon ended, even by kill -9), so it
 * is never orphaned; it leaves its socket files, and the next relay binds over them.
 */
const SCRIPT = String.raw`
use strict; use warnings;
use Socket qw(AF_UNIX SOCK_DGRAM MSG_DONTWAIT pack_sockaddr_un);
use IO::Select;
$SIG{INT} = 'IGNORE'; $SIG{HUP} = 'IGNORE';
umask 077;
my $max = int($ARGV[0]); my $burst = 16;
my (%sock, %path, %id_of);
my $sel = IO::Select->new(\*STDIN);
binmode STDIN; binmode STDOUT;
sub out { my $s = shift; my $off = 0;
  while ($off < length $s) { my $n = syswrite(STDOUT, $s, length($s) - $off, $off);
    if (!defined $n) { next if $!{EINTR}; exit 0 } $off += $n } }
sub drop { my $id = shift; my $s = delete $sock{$id} or return;
  $sel->remove($s); delete $id_of{"$s"}; close $s;
  my $p = delete $path{$id}; unlink $p if lstat($p) && -S _; }
sub bind_sock { my ($id, $p, $mode, $uid, $gid) = @_;
  drop($id);
  if (lstat $p) { return 'exists and is not a socket' unless -S _; unlink $p or return "unlink: $!"; }
  socket(my $s, AF_UNIX, SOCK_DGRAM, 0) or return "socket: $!";
  bind($s, pack_sockaddr_un($p)) or return "bind: $!";
  if (chown($uid, $gid, $p) != 1 || chmod($mode, $p) != 1) { my $e = "chown/chmod: $!"; unlink $p; return $e; }
  $sock{$id} = $s; $path{$id} = $p; $id_of{"$s"} = $id; $sel->add($s);
  return undef; }
sub command { my @f = split / /, shift;
  my $c = $f[0] // ''; my $id = $f[1] // '';
  if ($c eq 'O' && @f == 6) { my $err = bind_sock($id, pack('H*', $f[2]), oct($f[3]), int($f[4]), int($f[5]));
    if (defined $err) { $err =~ s/[\r\n]/ /g; out("E $id $err\n") } else { out("K $id\n") } }
  elsif ($c eq 'C' && @f == 2) { drop($id); out("K $id\n") }
  else { out("E $id bad command\n") } }
out("H $$\n");
my $in = '';
while (1) {
  for my $fh ($sel->can_read) {
    if (fileno($fh) == 0) {
      my $n = sysread(STDIN, $in, 65536, length $in);
      if (!defined $n) { next if $!{EINTR}; exit 0 }
      exit 0 if $n == 0;
      while ((my $i = index($in, "\n")) >= 0) { my $line = substr($in, 0, $i + 1, ''); chop $line; command($line) }
    } else {
      my $id = $id_of{"$fh"}; next unless defined $id;
      for (1 .. $burst) { my $buf = ''; defined(recv($fh, $buf, $max, MSG_DONTWAIT)) or last;
        out("D $id " . unpack('H*', $buf) . "\n") }
    }
  }
}
`;

/** The relay went away while a request was in flight (the hub starts another and retries). */
export class RelayExitedError extends Error {
  constructor() {
    super('the notify relay exited');
    this.name = 'RelayExitedError';
  }
}

export interface RelayOptions {
  /** The Perl interpreter (perl-base's /usr/bin/perl). */
  perl: string;
  /** Bytes of a datagram passed on; longer ones arrive cut to this length. */
  maxBytes: number;
  /** Where the relay's stderr goes (a Perl warning, a compile error). */
  onStderr: (line: string) => void;
}

export interface Relay {
  on(event: 'datagram', listener: (id: number, payload: Buffer) => void): this;
  on(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
}

/** One relay process and the request/answer bookkeeping over its pipes. */
export class Relay extends EventEmitter {
  readonly pid: number;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private exited = false;

  private constructor(child: ChildProcessWithoutNullStreams, pid: number) {
    super();
    this.child = child;
    this.pid = pid;
  }

  /** Spawns a relay; resolves once it said hello (Perl found, script compiled). */
  static start(o: RelayOptions): Promise<Relay> {
    // An empty environment: a root perl must not pick up PERL5OPT/PERL5LIB from anywhere.
    const child = spawn(o.perl, ['-e', SCRIPT, String(o.maxBytes)], { stdio: ['pipe', 'pipe', 'pipe'], env: {} });
    return new Promise((resolve, reject) => {
      let relay: Relay | undefined;
      let buf = '';
      let err = '';
      child.stdout.setEncoding('latin1');
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        err = (err + chunk).slice(-4096);
        for (const line of chunk.split('\n')) if (line) o.onStderr(line);
      });
      // EPIPE on a write to a relay that just died: the 'exit' handler does the bookkeeping
      child.stdin.on('error', () => {});
      child.on('error', (e) => {
        if (!relay) reject(e);
      });
      child.on('exit', (code, signal) => {
        if (!relay) return reject(new Error(`the notify relay exited before it started (${signal ?? code}): ${err.trim()}`));
        relay.onExit(code, signal);
      });
      child.stdout.on('data', (chunk: string) => {
        buf += chunk;
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (relay) relay.onLine(line);
          else if (line.startsWith('H ')) {
            relay = new Relay(child, Number(line.slice(2)));
            resolve(relay);
          }
        }
      });
    });
  }

  /** Binds `path` as socket `id` (replacing one of that id), then chown/chmod it. */
  open(id: number, path: string, mode: number, uid: number, gid: number): Promise<void> {
    return this.request(`O ${id} ${Buffer.from(path).toString('hex')} ${mode.toString(8)} ${uid} ${gid}\n`);
  }

  /** Closes socket `id` and unlinks its path; closing an unknown id succeeds. */
  close(id: number): Promise<void> {
    return this.request(`C ${id}\n`);
  }

  /** Ends the relay: it exits when it reads EOF. */
  stop(): void {
    this.child.stdin.end();
  }

  private request(line: string): Promise<void> {
    if (this.exited) return Promise.reject(new RelayExitedError());
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.child.stdin.write(line);
    });
  }

  private onLine(line: string): void {
    const sp1 = line.indexOf(' ');
    const sp2 = line.indexOf(' ', sp1 + 1);
    const kind = line.slice(0, sp1);
    if (kind === 'D') {
      this.emit('datagram', Number(line.slice(sp1 + 1, sp2)), Buffer.from(line.slice(sp2 + 1), 'hex'));
    } else if (kind === 'K') {
      this.pending.shift()?.resolve();
    } else if (kind === 'E') {
      this.pending.shift()?.reject(new Error(sp2 > 0 ? line.slice(sp2 + 1) : 'relay error'));
    }
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exited = true;
    for (const p of this.pending.splice(0)) p.reject(new RelayExitedError());
    this.emit('exit', code, signal);
  }
}
