// The benchmark's knobs: BENCH_* variables, checked once (the benchmark is a tool, not the service: it reads its own env).
import { z } from 'zod';

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const schema = z.object({
  /** Longest a measured point may run; a refund point also stops when its fresh payments are used up. */
  BENCH_SECONDS: int(1, 120).default(5),
  /** Refunds (so fresh payments) per measured point at 8 and 32 callers; a quarter of it at 1 caller. */
  BENCH_REFUNDS: int(50, 50_000).default(1_000),
  /** Requests per point sent first and not measured (JIT, pools, connections). */
  BENCH_WARMUP: int(0, 5_000).default(200),
  /** Fresh starts of each kind of gateway for the ready time and idle RSS. */
  BENCH_STARTS: int(1, 20).default(3),
  /** Requests per kind sent one at a time through the statement counter. */
  BENCH_PROBE: int(1, 1_000).default(20),
  /** An existing PostgreSQL server (the user needs CREATEDB); unset: a private cluster when initdb/pg_ctl exist. */
  BENCH_DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//).optional(),
  /** The private cluster with fsync on (PostgreSQL's default, as in production); off by default, as in .ci/run. */
  BENCH_PG_DURABLE: flag.default(false),
  /** The gateways' LOG_LEVEL; `info` is what production runs (one line per request and per Stripe call). */
  BENCH_LOG_LEVEL: z.enum(['info', 'warn', 'error', 'silent']).default('info'),
  /** Which parts to run (comma-separated); a partial run is for looking, not for the reference. */
  BENCH_PARTS: z
    .string()
    .regex(/^(starts|refunds|reads|replays|bare|probe)(,(starts|refunds|reads|replays|bare|probe))*$/)
    .default('starts,refunds,reads,replays,bare,probe'),
  /**
   * Extra variables for every gateway started (a JSON object of strings), to compare a setting's cost, e.g.
   * `{"OTEL_EXPORTER_OTLP_ENDPOINT":"http://127.0.0.1:4318"}` with `npm run bench:otlp-sink` running.
   */
  BENCH_GATEWAY_ENV: z
    .string()
    .transform((text, ctx) => {
      try {
        return z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/), z.string()).parse(JSON.parse(text));
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON object of NAME: "value" strings' });
        return z.NEVER;
      }
    })
    .default({}),
  /** Comma-separated caller counts. */
  BENCH_CALLERS: z
    .string()
    .regex(/^\d+(,\d+)*$/)
    .default('1,8,32'),
});

export type Settings = z.infer<typeof schema> & { callers: number[]; parts: Set<string> };

export function loadSettings(env: NodeJS.ProcessEnv): { ok: true; settings: Settings } | { ok: false; problems: string[] } {
  const given = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('BENCH_') && v !== ''));
  const parsed = schema.safeParse(given);
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) };
  const callers = parsed.data.BENCH_CALLERS.split(',').map(Number);
  if (callers.some((n) => n < 1 || n > 256)) return { ok: false, problems: ['BENCH_CALLERS: each between 1 and 256'] };
  return { ok: true, settings: { ...parsed.data, callers, parts: new Set(parsed.data.BENCH_PARTS.split(',')) } };
}

/** Refunds (and so fresh payments) for one measured point with `callers` callers. */
export const refundsPerPoint = (settings: Settings, callers: number): number =>
  callers === 1 ? Math.max(50, Math.round(settings.BENCH_REFUNDS / 4)) : settings.BENCH_REFUNDS;
