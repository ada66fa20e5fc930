// `--pid-file FILE`: the process to signal (SIGHUP reloads, SIGTERM drains), for init
// systems and scripts that find a service by its pid file. Under systemd it is not
// needed: Type=simple knows the process it started ($MAINPID).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

/** Writes this process's pid into `file` and removes the file when the process exits (unless another process has taken it over since). */
export function writePidFile(file: string): void {
  const pid = String(process.pid);
  writeFileSync(file, pid + '\n');
  process.on('exit', () => {
    try {
      if (readFileSync(file, 'utf8').trim() === pid) rmSync(file);
    } catch {
      // already gone
    }
  });
}
