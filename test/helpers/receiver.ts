// A caller's event receiver on loopback: verifies Standard Webhooks signatures and answers as a test tells it to.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedEvent {
  id: string;
  type: string;
  sequence: number;
  created: string;
  data: { object: Record<string, unknown> & { id: string; status: string }; previous_status: string | null };
}

export interface Receiver {
  url: string;
  secret: string;
  /** Every delivery that verified, in arrival order (duplicates included). */
  received: ReceivedEvent[];
  /** Attempts whose signature did not verify. */
  forged: number;
  /** How the next attempts are answered: a status (or 'drop' to cut the connection); afterwards 200. */
  failNext(count: number, how: number | 'drop'): void;
  close(): Promise<void>;
}

export const newEventsSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

export async function startReceiver(): Promise<Receiver> {
  const secret = newEventsSecret();
  const verifier = new Webhook(secret);
  const failures: (number | 'drop')[] = [];
  const state = { received: [] as ReceivedEvent[], forged: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const failure = failures.shift();
      if (failure === 'drop') {
        req.socket.destroy();
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        const event = verifier.verify(body, req.headers as Record<string, string>) as ReceivedEvent;
        if (failure === undefined) state.received.push(event);
      } catch {
        state.forged += 1;
        res.writeHead(400).end();
        return;
      }
      res.writeHead(failure ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`,
    secret,
    get received() {
      return state.received;
    },
    get forged() {
      return state.forged;
    },
    failNext: (count, how) => failures.push(...Array.from({ length: count }, () => how)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
