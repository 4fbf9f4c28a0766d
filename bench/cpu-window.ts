// CPU time of each process in a measured window, and of the rest of the machine (the noise, shown rather than hidden).
import { cpuSeconds, cpuSplit, machineBusySeconds, treeCpuSeconds } from './processes.js';

/** Processes whose CPU is read at both ends of a window; `postgres` is a process tree (postmaster + backends). */
export interface Watched {
  server?: number;
  emulator: number;
  postgres?: number;
  /** A caller in its own process (the direct SDK); otherwise the caller is this process (autocannon). */
  caller?: number;
}

export interface CpuUse {
  wallSeconds: number;
  /** CPU seconds of each watched role. */
  server: number;
  /** The part of `server` spent in the kernel (stime). */
  serverSystem: number;
  emulator: number;
  postgres: number;
  caller: number;
  /** What every other process on the machine used meanwhile, in % of one core. */
  otherPercent: number;
}

async function read(watched: Watched) {
  const self = process.cpuUsage();
  const selfSeconds = (self.user + self.system) / 1e6;
  const [serverSplit, emulator, postgres, caller, machine] = await Promise.all([
    watched.server !== undefined ? cpuSplit(watched.server) : { user: 0, system: 0 },
    cpuSeconds(watched.emulator),
    watched.postgres !== undefined ? treeCpuSeconds(watched.postgres) : 0,
    watched.caller !== undefined ? cpuSeconds(watched.caller) : selfSeconds,
    machineBusySeconds(),
  ]);
  // With the caller in a process of its own, this one (sampling, IPC) is neither caller nor "other".
  const bench = watched.caller !== undefined ? selfSeconds : 0;
  const server = serverSplit.user + serverSplit.system;
  return { server, serverSystem: serverSplit.system, emulator, postgres, caller, bench, machine, wall: performance.now() / 1000 };
}

export class CpuWindow {
  readonly #watched: Watched;
  readonly #start: Awaited<ReturnType<typeof read>>;

  private constructor(watched: Watched, start: Awaited<ReturnType<typeof read>>) {
    this.#watched = watched;
    this.#start = start;
  }

  static async open(watched: Watched): Promise<CpuWindow> {
    return new CpuWindow(watched, await read(watched));
  }

  async close(): Promise<CpuUse> {
    const end = await read(this.#watched);
    const d = (key: 'server' | 'serverSystem' | 'emulator' | 'postgres' | 'caller' | 'bench' | 'machine' | 'wall') => end[key] - this.#start[key];
    const wall = d('wall');
    const known = d('server') + d('emulator') + d('postgres') + d('caller') + d('bench');
    return {
      wallSeconds: wall,
      server: d('server'),
      serverSystem: d('serverSystem'),
      emulator: d('emulator'),
      postgres: d('postgres'),
      caller: d('caller'),
      otherPercent: wall > 0 ? Math.max(0, ((d('machine') - known) / wall) * 100) : 0,
    };
  }
}
