// A throwaway PostgreSQL cluster of a test's own, to stop, start and cut off without touching the shared one.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** Where initdb and pg_ctl are: on the PATH, or Debian's versioned folder. */
function binDir(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, 'pg_ctl'))) return dir;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).sort();
  const latest = versions.at(-1);
  return latest && existsSync(join(base, latest, 'bin', 'pg_ctl')) ? join(base, latest, 'bin') : undefined;
}

/** Set when PostgreSQL's server programs are installed here (CI installs them; `.ci/run` sets TEST_DATABASE_URL). */
export const postgresBinaries: string | undefined = binDir();

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });

export interface PrivatePostgres {
  url: string;
  /** Stops the server at once (`immediate`: connections are cut, as in a crash or failover). */
  stop(): void;
  start(): void;
  /** Terminates every backend whose current query matches `pattern` (ILIKE); returns how many. */
  terminate(pattern: string): Promise<number>;
  destroy(): void;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinaries;
  if (bin === undefined) throw new Error('PostgreSQL server programs (initdb, pg_ctl) are not installed.');
  const dir = mkdtempSync(join(tmpdir(), 'private-pg-'));
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  // initdb refuses to run as root: the cluster belongs to the postgres user then.
  if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), Number(execFileSync('id', ['-g', 'postgres']).toString().trim()));
  const run = (command: string) =>
    asRoot
      ? execFileSync('su', ['postgres', '-c', `PATH='${bin}:${process.env.PATH ?? ''}' ${command}`], { stdio: 'pipe' })
      : execFileSync('sh', ['-c', `PATH='${bin}:${process.env.PATH ?? ''}' ${command}`], { stdio: 'pipe' });
  run(`initdb -D '${dir}/data' -U postgres --auth=trust -E UTF8`);
  const start = () =>
    run(`pg_ctl -D '${dir}/data' -o "-p ${port} -k '${dir}' -c listen_addresses=127.0.0.1 -c fsync=off" -l '${dir}/pg.log' -w start`);
  start();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    stop: () => void run(`pg_ctl -D '${dir}/data' -m immediate -w stop`),
    start,
    terminate: async (pattern) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const result = await client.query(
          'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE query ILIKE $1 AND pid <> pg_backend_pid()',
          [pattern],
        );
        return (result.rows[0] as { n: number }).n;
      } finally {
        await client.end();
      }
    },
    destroy: () => {
      try {
        run(`pg_ctl -D '${dir}/data' -m immediate -w stop`);
      } catch {
        // Already stopped.
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
