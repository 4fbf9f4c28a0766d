// `npm run emulator`: the only emulator file that reads the environment; runs until SIGINT/SIGTERM, then closes cleanly.
import { z } from 'zod';
import { startEmulator } from './server.js';

const envSchema = z
  .object({
    EMULATOR_PORT: z.coerce.number().int().min(0).max(65_535).default(12_111),
    EMULATOR_HOST: z.string().min(1).default('127.0.0.1'),
    EMULATOR_SEED: z.enum(['true', 'false', '1', '0']).default('false'),
    EMULATOR_EVENT_LIMIT: z.coerce.number().int().min(1).default(10_000),
    /** One webhook endpoint from the start (e.g. the gateway's /v1/webhooks/stripe), signed with EMULATOR_WEBHOOK_SECRET. */
    EMULATOR_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
    EMULATOR_WEBHOOK_SECRET: z.string().regex(/\S/, 'must not be blank').optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .refine((env) => (env.EMULATOR_WEBHOOK_URL === undefined) === (env.EMULATOR_WEBHOOK_SECRET === undefined), {
    message: 'EMULATOR_WEBHOOK_URL and EMULATOR_WEBHOOK_SECRET go together',
    path: ['EMULATOR_WEBHOOK_SECRET'],
  });

const parsed = envSchema.safeParse(process.env);
if (!parsed.success) {
  for (const issue of parsed.error.issues) console.error(`invalid ${issue.path.join('.')}: ${issue.message}`);
  process.exit(1);
}
const env = parsed.data;

const emulator = await startEmulator({
  port: env.EMULATOR_PORT,
  host: env.EMULATOR_HOST,
  seed: env.EMULATOR_SEED === 'true' || env.EMULATOR_SEED === '1',
  logger: { level: env.LOG_LEVEL },
  eventLimit: env.EMULATOR_EVENT_LIMIT,
  webhooks: env.EMULATOR_WEBHOOK_URL !== undefined && env.EMULATOR_WEBHOOK_SECRET !== undefined ? [{ url: env.EMULATOR_WEBHOOK_URL, secret: env.EMULATOR_WEBHOOK_SECRET }] : [],
});
console.log(`Stripe emulator listening on ${emulator.url} (test keys only; control API at ${emulator.url}/_emulator/…)`);

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: closing the Stripe emulator`);
  emulator.close().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
};
process.once('SIGINT', () => stop('SIGINT'));
process.once('SIGTERM', () => stop('SIGTERM'));
