// The programs the benchmark runs as child processes (emulator, gateways, baselines): start, wait until ready, sample, stop.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Service {
  name: string;
  pid: number;
  url: string;
  logFile: string;
  child: ChildProcess;
  /** performance.now() when it was spawned: ready time counts from here. */
  spawnedAt: number;
  /** Resolves once the process has exited (for whatever reason). */
  exited: Promise<number | null>;
}

/** A port nobody listens on right now, on loopback (the benchmark never leaves 127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const running = new Set<Service>();

/**
 * Runs `node <args>` as one process, so its pid is the program's own (RSS and CPU are read from /proc by pid). The
 * environment holds only what the program is given plus PATH and HOME: nothing from the caller's shell changes what is
 * measured. Compiled programs run with plain node; the baselines written in TypeScript run with `--import tsx`.
 */
export function startProgram(options: {
  name: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  port: number;
  logDir: string;
  ipc?: boolean;
}): Service {
  const logFile = join(options.logDir, `${options.name}.log`);
  // The child writes its log straight into a file: through a pipe that this busy process drains, a full pipe would
  // make the gateway's synchronous log writes wait and retry, a cost production (a fast log collector) does not have.
  const log = openSync(logFile, 'a');
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', ...options.env },
    stdio: options.ipc ? ['ignore', log, log, 'ipc'] : ['ignore', log, log],
  });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`${options.name} did not start`);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const service: Service = { name: options.name, pid: child.pid, url: `http://127.0.0.1:${options.port}`, logFile, child, spawnedAt, exited };
  running.add(service);
  void exited.then(() => running.delete(service));
  return service;
}

/**
 * Polls `path` every 10 ms until it answers 200 (the process dying or `timeoutMs` passing is an error). Returns the
 * milliseconds from spawn to that first 200: the ready time, to within the 10 ms poll.
 */
export async function waitUntilReady(service: Service, path: string, timeoutMs: number): Promise<number> {
  let died = false;
  void service.exited.then(() => (died = true));
  let last = 'no answer yet';
  while (performance.now() - service.spawnedAt < timeoutMs) {
    if (died) throw new Error(`${service.name} exited before it was ready; see ${service.logFile}`);
    try {
      const response = await fetch(`${service.url}${path}`, { signal: AbortSignal.timeout(2_000) });
      const text = await response.text();
      if (response.status === 200) return performance.now() - service.spawnedAt;
      last = `HTTP ${response.status}: ${text.slice(0, 200)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(10);
  }
  throw new Error(`${service.name} was not ready within ${timeoutMs} ms (${last}); see ${service.logFile}`);
}

/** SIGTERM one child, SIGKILL it if it has not exited after `graceMs`. */
export async function stop(service: Service, graceMs = 5_000): Promise<void> {
  if (!running.has(service)) return;
  service.child.kill('SIGTERM');
  const timedOut = await Promise.race([service.exited.then(() => false), sleep(graceMs).then(() => true)]);
  if (timedOut) service.child.kill('SIGKILL');
  await service.exited;
}

export async function stopAll(graceMs = 5_000): Promise<void> {
  await Promise.all([...running].map((s) => stop(s, graceMs)));
}

/** Last resort on process exit: nothing may outlive the benchmark. Synchronous, as 'exit' handlers must be. */
export function killAllNow(): void {
  for (const service of running) service.child.kill('SIGKILL');
}

// Linux reports CPU time in clock ticks; almost always 100 a second, but asking costs nothing.
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** The fields after the command name of /proc/<pid>/stat (the name may hold spaces; what follows it is plain). */
async function statFields(pid: number): Promise<string[]> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of a process, in seconds, from /proc/<pid>/stat (10 ms resolution). */
export async function cpuSeconds(pid: number): Promise<number> {
  const { user, system } = await cpuSplit(pid);
  return user + system;
}

/** utime and stime apart: kernel time is where loopback TCP and file writes show up. */
export async function cpuSplit(pid: number): Promise<{ user: number; system: number }> {
  const fields = await statFields(pid);
  return { user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS };
}

/**
 * CPU seconds of a process and all its children alive now (PostgreSQL: the postmaster and its backends). Children
 * that exited inside a window take their CPU with them, so windows are taken while the gateway's pool is open.
 */
export async function treeCpuSeconds(rootPid: number): Promise<number> {
  let total = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = await statFields(Number(entry));
      if (Number(entry) === rootPid || Number(fields[1]) === rootPid) total += (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    } catch {
      // The process ended between readdir and readFile.
    }
  }
  return total;
}

/** CPU seconds the whole machine spent busy (every core, every process), from the first line of /proc/stat. */
export async function machineBusySeconds(): Promise<number> {
  const [, ...ticks] = ((await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '').trim().split(/\s+/);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = ticks.map(Number);
  return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS;
}

/** Resident set size in bytes, from VmRSS in /proc/<pid>/status. */
export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/** Samples a process's RSS every `intervalMs` for as long as it runs, keeping the largest value seen. */
export class PeakRss {
  readonly #timer: NodeJS.Timeout;
  #peak = 0;

  constructor(pid: number, intervalMs = 100) {
    const sample = () =>
      rssBytes(pid).then(
        (rss) => (this.#peak = Math.max(this.#peak, rss)),
        () => undefined,
      );
    void sample();
    this.#timer = setInterval(sample, intervalMs);
    this.#timer.unref();
  }

  get peakBytes(): number {
    return this.#peak;
  }

  stop(): number {
    clearInterval(this.#timer);
    return this.#peak;
  }
}
