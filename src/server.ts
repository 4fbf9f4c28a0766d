// Runs the gateway process: config from the environment, build, listen, close gracefully. Nothing else.
import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { shutdownGraceMs } from './budget.js';
import { loadConfig } from './config.js';
import type { Sandbox } from './sandbox.js';

const loaded = loadConfig(process.env);
if (!loaded.ok) {
  for (const problem of loaded.problems) console.error(`config: ${problem}`);
  console.error('The gateway did not start: fix the variables above (see the configuration table in README.md).');
  process.exit(1);
}

let config = loaded.config;
let sandbox: Sandbox | undefined;

/** A start that fails after the config was fine (ledger unreachable, port taken): one clear line, not a stack, and exit 1. */
async function failStart(step: string, err: unknown, app?: FastifyInstance): Promise<never> {
  console.error(`start: ${step}: ${err instanceof Error ? err.message : String(err)}`);
  await app?.close().catch(() => undefined);
  await sandbox?.close().catch(() => undefined);
  process.exit(1);
}

// The emulator is loaded only in sandbox mode: a production start never compiles it.
const sandboxModule = config.sandbox ? await import('./sandbox.js') : undefined;
if (sandboxModule) {
  sandbox = await sandboxModule.startSandbox(config).catch((err: unknown) => failStart('the sandbox emulator did not start', err));
  config = sandbox.config;
}

const app = await buildApp(config).catch((err: unknown) => failStart('the gateway could not be built', err));
// Every attempt in flight ends within its budget, so the grace is at least that: none is cut off between Stripe's
// answer and the ledger's record of it. (A container's stop timeout must be longer still; see docs/deployment.md.)
closeWithGrace({ delay: shutdownGraceMs(config) }, async ({ err, signal }) => {
  if (err) app.log.error({ err }, 'closing after an uncaught error');
  else app.log.info({ signal }, 'closing');
  await app.close();
  await sandbox?.close();
});

await app.listen({ port: config.port, host: config.host }).catch((err: unknown) => failStart(`cannot listen on ${config.host}:${config.port}`, err, app));
if (sandbox && sandboxModule) {
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const gatewayUrl = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
  // Before the banner: by the time the key is printed, the demo refunds are in the unfiltered list.
  await sandbox.connectWebhooks(gatewayUrl).catch((err: unknown) => app.log.warn({ err }, 'the sandbox emulator could not deliver its webhooks to the gateway'));
  console.log(sandboxModule.sandboxBanner(sandbox, gatewayUrl).join('\n'));
}
