// PostgreSQL for the benchmark: a throwaway private cluster it starts itself (as .ci/run does), or BENCH_DATABASE_URL.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './processes.js';

/** Where initdb and pg_ctl are: on the PATH, or Debian's versioned folder; undefined when not installed. */
export function postgresBinaries(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':')) if (dir && existsSync(join(dir, 'pg_ctl'))) return dir;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const latest = readdirSync(base).sort().at(-1);
  return latest && existsSync(join(base, latest, 'bin', 'pg_ctl')) ? join(base, latest, 'bin') : undefined;
}

export interface BenchPostgres {
  /** Where it came from: started here (with its settings) or given. */
  origin: string;
  /** A URL for `database` on this server (same host, port and credentials). */
  urlFor(database: string): string;
  /** Creates an empty database (dropping one of that name first, only on a cluster the benchmark made itself). */
  freshDatabase(name: string): Promise<string>;
  /** The postmaster's pid when the server runs on this machine and we can see it: its tree's CPU is PostgreSQL's. */
  postmasterPid: number | undefined;
  close(): Promise<void>;
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const ident = (name: string): string => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
  return name;
};

/**
 * A private cluster on `port`: initdb + pg_ctl as the postgres user (initdb refuses root). Like .ci/run, fsync is off
 * unless `durable`: a commit then costs PostgreSQL's work, not this VM's disk flush (which would dominate every
 * number and is a property of the disk, not of the gateway). `durable` keeps PostgreSQL's defaults, as in production.
 */
export async function startPrivateCluster(port: number, durable: boolean): Promise<BenchPostgres> {
  const bin = postgresBinaries();
  if (bin === undefined) throw new Error('PostgreSQL server programs (initdb, pg_ctl) are not installed');
  const dir = mkdtempSync(join(tmpdir(), 'bench-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, id('-u'), id('-g'));
  }
  const run = (command: string): void => {
    const withPath = `PATH='${bin}:${process.env['PATH'] ?? ''}' ${command}`;
    if (asRoot) execFileSync('su', ['postgres', '-c', withPath], { stdio: 'pipe' });
    else execFileSync('sh', ['-c', withPath], { stdio: 'pipe' });
  };
  run(`initdb -D '${dir}/data' -U postgres --auth=trust -E UTF8`);
  const options = `-p ${port} -k '${dir}' -c listen_addresses=127.0.0.1${durable ? '' : ' -c fsync=off'}`;
  run(`pg_ctl -D '${dir}/data' -o "${options}" -l '${dir}/pg.log' -w start`);
  const base = `postgres://postgres@127.0.0.1:${port}`;
  const postmasterPid = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    origin: `private cluster started by the benchmark (port ${port}, ${durable ? 'PostgreSQL defaults: fsync on' : 'fsync off, as in .ci/run'})`,
    urlFor: (database) => `${base}/${database}`,
    freshDatabase: async (name) => {
      await withClient(`${base}/postgres`, async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${ident(name)}`);
        await client.query(`CREATE DATABASE ${ident(name)}`);
      });
      return `${base}/${name}`;
    },
    postmasterPid,
    close: async () => {
      try {
        run(`pg_ctl -D '${dir}/data' -m immediate -w stop`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * A server someone else runs: the benchmark creates its databases next to the one in the URL (it needs CREATEDB) and
 * never drops anything it did not create in this run.
 */
export async function givenServer(url: string): Promise<BenchPostgres> {
  const parsed = new URL(url);
  const urlFor = (database: string) => {
    const copy = new URL(parsed);
    copy.pathname = `/${database}`;
    return copy.toString();
  };
  const created: string[] = [];
  await withClient(url, (client) => client.query('SELECT 1'));
  return {
    origin: `BENCH_DATABASE_URL (${parsed.host})`,
    urlFor,
    freshDatabase: async (name) => {
      const unique = `${name}_${Date.now().toString(36)}`;
      await withClient(url, (client) => client.query(`CREATE DATABASE ${ident(unique)}`));
      created.push(unique);
      return urlFor(unique);
    },
    postmasterPid: undefined,
    close: async () => {
      await withClient(url, async (client) => {
        for (const name of created) await client.query(`DROP DATABASE IF EXISTS ${ident(name)}`).catch(() => undefined);
      });
    },
  };
}

/** The server BENCH_DATABASE_URL names, else a private cluster when PostgreSQL is installed, else none. */
export async function openBenchPostgres(settings: { BENCH_DATABASE_URL?: string | undefined; BENCH_PG_DURABLE: boolean }): Promise<BenchPostgres | undefined> {
  if (settings.BENCH_DATABASE_URL !== undefined) return givenServer(settings.BENCH_DATABASE_URL);
  if (postgresBinaries() !== undefined) return startPrivateCluster(await freePort(), settings.BENCH_PG_DURABLE);
  return undefined;
}
