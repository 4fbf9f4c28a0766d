// A test gateway that listens on a loopback port, so the emulator can deliver its signed webhooks to /v1/webhooks/stripe.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { startTestGateway, type TestGateway, type TestGatewayOptions } from './gateway.js';

/** A webhook signing secret shaped like Stripe's. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(24).toString('hex')}`;

export interface ListeningGateway extends TestGateway {
  /** http://127.0.0.1:<port> */
  url: string;
  /** The gateway's STRIPE_WEBHOOK_SECRET (undefined when it has none). */
  secret: string | undefined;
  /** The metric lines whose name starts with `prefix`, as "name{labels} value". */
  metricLines(prefix: string): Promise<string[]>;
}

export interface ListeningGatewayOptions extends TestGatewayOptions {
  /** The gateway's secret; null: none (the route answers 503). Default: a new one. */
  secret?: string | null;
  /** The secret the emulator's endpoint signs with; default the gateway's (false: add no endpoint). */
  endpointSecret?: string | false;
}

export async function startListeningGateway(options: ListeningGatewayOptions = {}): Promise<ListeningGateway> {
  const secret = options.secret === null ? undefined : (options.secret ?? newWebhookSecret());
  const gw = await startTestGateway({ ...options, env: { ...(secret ? { STRIPE_WEBHOOK_SECRET: secret } : {}), ...options.env } });
  await gw.app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(gw.app.server.address() as AddressInfo).port}`;
  const endpointSecret = options.endpointSecret ?? secret;
  if (endpointSecret) gw.emulator.control.addWebhookEndpoint({ url: `${url}/v1/webhooks/stripe`, secret: endpointSecret });
  // A refused delivery is retried twice, quickly, so a flush never waits long on a test that refuses on purpose.
  gw.emulator.control.updateSettings({ webhook_delivery: { max_attempts: 2, retry_base_ms: 20 } });
  return {
    ...gw,
    url,
    secret,
    metricLines: async (prefix) => (await gw.http.get('/metrics')).text.split('\n').filter((line) => line.startsWith(prefix)),
  };
}
