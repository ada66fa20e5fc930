// What /proc tells about processes the bench did not spawn itself: Postfix's master
// forks an smtpd per connection, so its CPU is that of a process tree, found from the
// socket it listens on.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

interface Stat {
  pid: number;
  ppid: number;
  /** own user + system time, µs */
  self: number;
  /** user + system time of the children it has waited for (exited smtpd processes), µs */
  children: number;
}

// clock ticks of /proc/PID/stat, 100 per second on Linux (sysconf(_SC_CLK_TCK))
const TICK_US = 10_000;

function statOf(pid: number): Stat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    // fields after the command name, from field 3 (state): ppid is 4, utime 14, stime 15, cutime 16, cstime 17
    const f = text.slice(close + 2).split(' ');
    return { pid, ppid: Number(f[1]), self: (Number(f[11]) + Number(f[12])) * TICK_US, children: (Number(f[13]) + Number(f[14])) * TICK_US };
  } catch {
    return null; // gone meanwhile
  }
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** The processes that hold the socket listening on 127.0.0.1:`port` (a master and the children it passed it to). */
export function listenerPids(port: number): number[] {
  const hex = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // local_address, state 0A = LISTEN, inode is field 10
    if (f[1] === hex && f[3] === '0A') inodes.add(f[9]);
  }
  if (!inodes.size) return [];
  const out: number[] = [];
  for (const pid of allPids()) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1])) {
          out.push(pid);
          break;
        }
      }
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/** Of the processes holding a listening socket, the one whose parent does not: the master. */
export function masterOf(pids: number[]): number | undefined {
  const set = new Set(pids);
  return pids.find((pid) => {
    const s = statOf(pid);
    return s !== null && !set.has(s.ppid);
  });
}

/**
 * CPU of `root` and every process under it, µs: each live one's own time plus what its
 * exited children left in its cutime/cstime, so a child that exited between two
 * readings (an smtpd past max_use) is still counted, and none twice.
 */
export function treeCpuMicros(root: number): number | null {
  const stats = allPids()
    .map(statOf)
    .filter((s): s is Stat => s !== null);
  const byParent = new Map<number, Stat[]>();
  for (const s of stats) byParent.set(s.ppid, [...(byParent.get(s.ppid) ?? []), s]);
  const top = stats.find((s) => s.pid === root);
  if (!top) return null;
  let total = 0;
  const walk = (s: Stat) => {
    total += s.self + s.children;
    for (const c of byParent.get(s.pid) ?? []) walk(c);
  };
  walk(top);
  return total;
}

/** Resident memory of a process, bytes (0 when gone). */
export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
