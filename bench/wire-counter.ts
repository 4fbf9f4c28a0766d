// A PostgreSQL wire-protocol relay that counts what the gateway asks of the database: statements and round trips.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * Counted from the protocol itself, so nothing in the gateway has to cooperate and nothing is estimated:
 * - a statement is one the server completed: a CommandComplete ('C'), or an ErrorResponse ('E') for one that failed;
 *   a simple-protocol Query ('Q') holding two statements counts two;
 * - a round trip is one ReadyForQuery ('Z'): the server answers each Sync or simple Query with exactly one, and the
 *   client waits for it before it can use the connection again;
 * - each statement is labelled by the SQL text the client sent (Parse or Query; for a named prepared statement, the
 *   text it was parsed with on that connection), so a reader sees WHICH statements.
 * It can also hold back the server's answers to one kind of statement (`delay`), to see whether a caller's answer
 * waits for that statement: the causal test of "on the answer path", which no timestamp can give.
 */
export interface WireCounts {
  statements: number;
  roundTrips: number;
  connectionsOpened: number;
  byLabel: Record<string, number>;
}

const empty = (): WireCounts => ({ statements: 0, roundTrips: 0, connectionsOpened: 0, byLabel: {} });

/** A short, stable name for a statement of the gateway's ledger (falls back to its first words). */
export function labelOf(sql: string): string {
  const s = sql.replace(/\s+/g, ' ').trim();
  const rules: [RegExp, string][] = [
    [/pg_try_advisory_lock/i, 'try payment lock'],
    [/pg_advisory_unlock/i, 'release payment lock'],
    [/SET lock_timeout/i, 'set lock_timeout'],
    [/pg_advisory_lock/i, 'wait for payment lock'],
    [/INSERT INTO idempotency_records/i, 'begin idempotency record'],
    [/SET state = 'completed'/i, 'complete record + index refund'],
    [/SET state = 'in_progress'/i, 'take over record'],
    [/SET state = 'open'/i, 'release record'],
    [/^INSERT INTO refunds/i, 'index refund'],
    [/FROM refunds/i, 'read refund index'],
    [/^(BEGIN|COMMIT|ROLLBACK)\b/i, s.split(' ')[0]?.toUpperCase() ?? 'transaction'],
    [/^SET /i, 'session setting'],
  ];
  for (const [pattern, label] of rules) if (pattern.test(s)) return label;
  return s.split(' ').slice(0, 4).join(' ');
}

/** Splits a simple-protocol query string into its statements (the gateway's never hold quoted semicolons). */
const splitSimple = (sql: string): string[] =>
  sql
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '');

/** Frames of one direction of a PostgreSQL connection; the client's first frame (startup) has no type byte. */
class FrameReader {
  #buffer: Buffer = Buffer.alloc(0);
  #startup: boolean;

  constructor(startup: boolean) {
    this.#startup = startup;
  }

  push(chunk: Buffer, onFrame: (type: string, body: Buffer) => void): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      if (this.#startup) {
        if (this.#buffer.length < 4) return;
        const length = this.#buffer.readInt32BE(0);
        if (this.#buffer.length < length) return;
        const code = this.#buffer.length >= 8 ? this.#buffer.readInt32BE(4) : 0;
        this.#buffer = this.#buffer.subarray(length);
        // An SSLRequest (80877103) is followed by another untyped startup frame; a real startup ends the untyped part.
        if (code !== 80_877_103) this.#startup = false;
        continue;
      }
      if (this.#buffer.length < 5) return;
      const length = this.#buffer.readInt32BE(1);
      if (this.#buffer.length < 1 + length) return;
      onFrame(String.fromCharCode(this.#buffer[0] ?? 0), this.#buffer.subarray(5, 1 + length));
      this.#buffer = this.#buffer.subarray(1 + length);
    }
  }
}

export class WireCounter {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #counts: WireCounts = empty();
  #delay: { label: string; ms: number } | undefined;

  private constructor(upstream: { host: string; port: number }) {
    this.#server = createServer((client) => this.relay(client, upstream));
  }

  /** Listens on a loopback port and relays every connection to `upstream` (host:port of the real server). */
  static async start(upstream: { host: string; port: number }): Promise<{ counter: WireCounter; port: number }> {
    const counter = new WireCounter(upstream);
    await new Promise<void>((resolve) => counter.#server.listen(0, '127.0.0.1', resolve));
    const address = counter.#server.address();
    return { counter, port: typeof address === 'object' && address ? address.port : 0 };
  }

  /** Returns what was counted since the last call, and starts again from zero. */
  take(): WireCounts {
    const counts = this.#counts;
    this.#counts = empty();
    return counts;
  }

  /** From now on, the answer to every round trip holding a statement of `label` reaches the gateway `ms` late. */
  delay(label: string | undefined, ms = 0): void {
    this.#delay = label === undefined ? undefined : { label, ms };
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  private relay(client: Socket, upstream: { host: string; port: number }): void {
    const server = createConnection(upstream);
    this.#sockets.add(client).add(server);
    this.#counts.connectionsOpened += 1;
    // Labels of the statements sent and not yet completed, in order: the server completes them in the same order.
    const pending: string[] = [];
    const fromClient = new FrameReader(true);
    const fromServer = new FrameReader(false);
    let parsed = '';
    // Named (prepared) statements are parsed once per connection and then only bound by name: remember their text.
    const named = new Map<string, string>();
    // Server bytes go out in order; once one chunk is held back, the ones after it queue behind it.
    let outbound: Promise<void> | undefined;
    client.on('data', (chunk: Buffer) => {
      server.write(chunk);
      fromClient.push(chunk, (type, body) => {
        if (type === 'Q') pending.push(...splitSimple(body.toString('utf8', 0, body.length - 1)).map(labelOf));
        // Parse: statement name, NUL, query text, NUL, …; the Execute that follows runs it.
        if (type === 'P') {
          const name = body.toString('utf8', 0, body.indexOf(0));
          parsed = body.toString('utf8', body.indexOf(0) + 1, body.indexOf(0, body.indexOf(0) + 1));
          if (name !== '') named.set(name, parsed);
        }
        // Bind: portal name, NUL, statement name, NUL, …; a named statement's text is the one it was parsed with.
        if (type === 'B') {
          const start = body.indexOf(0) + 1;
          const statement = body.toString('utf8', start, body.indexOf(0, start));
          if (statement !== '') parsed = named.get(statement) ?? `prepared ${statement}`;
        }
        if (type === 'E') pending.push(labelOf(parsed));
      });
    });
    server.on('data', (chunk: Buffer) => {
      let holdMs = 0;
      fromServer.push(chunk, (type) => {
        if (type === 'C' || type === 'E') {
          const label = pending.shift() ?? 'connection set-up';
          this.#counts.statements += 1;
          this.#counts.byLabel[label] = (this.#counts.byLabel[label] ?? 0) + 1;
          if (this.#delay?.label === label) holdMs = this.#delay.ms;
        }
        if (type === 'Z') {
          this.#counts.roundTrips += 1;
          // Whatever the server skipped after an error in this round trip will never complete.
          pending.length = 0;
        }
      });
      if (holdMs === 0 && outbound === undefined) {
        client.write(chunk);
        return;
      }
      const queued: Promise<void> = (outbound ?? Promise.resolve())
        .then(() => (holdMs > 0 ? new Promise<void>((resolve) => setTimeout(resolve, holdMs)) : undefined))
        .then(() => {
          client.write(chunk);
          if (outbound === queued) outbound = undefined;
        });
      outbound = queued;
    });
    const end = () => {
      client.destroy();
      server.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(server);
    };
    client.on('close', end).on('error', end);
    server.on('close', end).on('error', end);
  }
}
