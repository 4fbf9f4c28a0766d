// The emulator and the gateway as child processes of the benchmark: start, wait until ready, sample, stop.
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Service {
  name: string;
  pid: number;
  url: string;
  logFile: string;
  child: ChildProcess;
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
 * Runs a TypeScript entry point as `node --import tsx <entry>`: the same program `tsx <entry>` runs, but in ONE
 * process. The tsx CLI is a wrapper that spawns node as its own child, so its pid's RSS would be the wrapper's.
 */
export function startService(options: { name: string; entry: string; cwd: string; env: Record<string, string>; port: number; logDir: string }): Service {
  const logFile = join(options.logDir, `${options.name}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, ['--import', 'tsx', options.entry], {
    cwd: options.cwd,
    // Only what the program needs (plus PATH/HOME), so nothing from the caller's shell changes what is measured.
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  if (child.pid === undefined) throw new Error(`${options.name} did not start`);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const service: Service = { name: options.name, pid: child.pid, url: `http://127.0.0.1:${options.port}`, logFile, child, exited };
  running.add(service);
  void exited.then(() => running.delete(service));
  return service;
}

/** Polls `path` until it answers 200, the process dies, or `timeoutMs` passes. Returns the milliseconds it took. */
export async function waitUntilReady(service: Service, path: string, timeoutMs: number): Promise<number> {
  const started = performance.now();
  let died = false;
  void service.exited.then(() => (died = true));
  let last = 'no answer yet';
  while (performance.now() - started < timeoutMs) {
    if (died) throw new Error(`${service.name} exited before it was ready; see ${service.logFile}`);
    try {
      const response = await fetch(`${service.url}${path}`, { signal: AbortSignal.timeout(2_000) });
      if (response.status === 200) return performance.now() - started;
      last = `HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`${service.name} was not ready within ${timeoutMs} ms (${last}); see ${service.logFile}`);
}

/** SIGTERM every running child, then SIGKILL whatever has not exited after `graceMs`. */
export async function stopAll(graceMs = 5_000): Promise<void> {
  const services = [...running];
  for (const service of services) service.child.kill('SIGTERM');
  const all = Promise.all(services.map((s) => s.exited));
  const timedOut = await Promise.race([all.then(() => false), sleep(graceMs).then(() => true)]);
  if (timedOut) for (const service of running) service.child.kill('SIGKILL');
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

/** utime + stime of a process, in seconds, from /proc/<pid>/stat. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; every field after its closing parenthesis is plain.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
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

export interface UsageWindow {
  rssStartBytes: number;
  rssMaxBytes: number;
  rssEndBytes: number;
  /** CPU time over wall time, in percent of one core. */
  cpuPercent: number;
}

/** Samples a process's RSS every `intervalMs` (keeping the max) and its CPU time at both ends of a window. */
export class UsageSampler {
  readonly #pid: number;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #rssStart = 0;
  #rssMax = 0;
  #cpuStart = 0;
  #wallStart = 0;

  constructor(pid: number, intervalMs = 100) {
    this.#pid = pid;
    this.#intervalMs = intervalMs;
  }

  async start(): Promise<void> {
    this.#rssStart = await rssBytes(this.#pid);
    this.#rssMax = this.#rssStart;
    this.#cpuStart = await cpuSeconds(this.#pid);
    this.#wallStart = performance.now();
    this.#timer = setInterval(() => {
      rssBytes(this.#pid).then(
        (rss) => (this.#rssMax = Math.max(this.#rssMax, rss)),
        () => undefined,
      );
    }, this.#intervalMs);
  }

  async stop(): Promise<UsageWindow> {
    clearInterval(this.#timer);
    const rssEnd = await rssBytes(this.#pid);
    const cpu = (await cpuSeconds(this.#pid)) - this.#cpuStart;
    const wall = (performance.now() - this.#wallStart) / 1000;
    return {
      rssStartBytes: this.#rssStart,
      rssMaxBytes: Math.max(this.#rssMax, rssEnd),
      rssEndBytes: rssEnd,
      cpuPercent: wall > 0 ? (cpu / wall) * 100 : 0,
    };
  }
}
