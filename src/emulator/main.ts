// `npm run emulator`: the only emulator file that reads the environment; runs until SIGINT/SIGTERM, then closes cleanly.
import { z } from 'zod';
import { startEmulator } from './server.js';

const envSchema = z.object({
  EMULATOR_PORT: z.coerce.number().int().min(0).max(65_535).default(12_111),
  EMULATOR_HOST: z.string().min(1).default('127.0.0.1'),
  EMULATOR_SEED: z.enum(['true', 'false', '1', '0']).default('false'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
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
