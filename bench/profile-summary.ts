// Reads a V8 .cpuprofile (node --cpu-prof) and says where the time went: top functions by self time, and by origin.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  /** Sampled time in ms, idle excluded. */
  busyMs: number;
  idleMs: number;
  top: { name: string; where: string; selfMs: number; percent: number }[];
  byOrigin: { origin: string; selfMs: number; percent: number }[];
  /** The native write calls (socket and file), by who made them: the profile's largest entries, otherwise anonymous. */
  writesBy: { writer: string; selfMs: number; percent: number }[];
}

const WRITES = new Set(['writev', 'writeBuffer', 'writeString', 'writeUtf8String', 'writeLatin1String', 'writeAsciiString']);
/** The first ancestor that names the writer decides (checked from the write upwards). */
const WRITERS: [RegExp, string][] = [
  [/sonic-boom/, 'log lines (pino → sonic-boom → file)'],
  [/node_modules\/pg(-pool|-protocol)?\//, 'PostgreSQL queries (pg)'],
  [/fastify\/lib\/reply/, 'HTTP answers (Fastify reply)'],
  [/node:_http_client|node_modules\/stripe\//, 'Stripe requests (SDK → http client)'],
];

/** Where a function lives: a package, Node itself, the gateway's own compiled code, or V8's bookkeeping. */
export function originOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `package ${pkg[1]}`;
  if (url.startsWith('node:')) return `node ${url.slice(5).split('/')[0]}`;
  const own = /\/dist\/([^/]+)\//.exec(url);
  if (own) return `gateway dist/${own[1]}/`;
  if (/\/dist\/[^/]+\.js$/.test(url)) return 'gateway dist/*.js';
  return url;
}

const shortUrl = (url: string): string => url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/');

/**
 * Self time per function. `window` (µs on the monotonic clock the profile's timestamps use, which on Linux is
 * process.hrtime's) keeps only the samples taken inside it, so start-up and warm-up do not count.
 */
export function summarise(profile: CpuProfile, topN = 25, window?: { startUs: number; endUs: number }): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (window && (at < window.startUs || at > window.endUs)) return;
    self.set(id, (self.get(id) ?? 0) + delta);
  });
  const byFunction = new Map<string, { name: string; where: string; us: number }>();
  const byOrigin = new Map<string, number>();
  const writesBy = new Map<string, number>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const writerOf = (id: number): string => {
    for (let at = parent.get(id); at !== undefined; at = parent.get(at)) {
      const url = byId.get(at)?.callFrame.url ?? '';
      for (const [pattern, writer] of WRITERS) if (pattern.test(url)) return writer;
    }
    return 'other writes';
  };
  let idleUs = 0;
  let busyUs = 0;
  for (const [id, us] of self) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const name = frame.functionName || '(anonymous)';
    const where = frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const entry = byFunction.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
    if (frame.url === '' && WRITES.has(frame.functionName)) {
      const writer = writerOf(id);
      writesBy.set(writer, (writesBy.get(writer) ?? 0) + us);
    }
    const origin = originOf(frame.url, frame.functionName);
    byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + us);
  }
  const pct = (us: number) => Math.round((us / Math.max(1, busyUs)) * 1000) / 10;
  const ms = (us: number) => Math.round(us / 100) / 10;
  return {
    busyMs: ms(busyUs),
    idleMs: ms(idleUs),
    top: [...byFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((f) => ({ name: f.name, where: f.where, selfMs: ms(f.us), percent: pct(f.us) })),
    byOrigin: [...byOrigin.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([origin, us]) => ({ origin, selfMs: ms(us), percent: pct(us) })),
    writesBy: [...writesBy.entries()].sort((a, b) => b[1] - a[1]).map(([writer, us]) => ({ writer, selfMs: ms(us), percent: pct(us) })),
  };
}
