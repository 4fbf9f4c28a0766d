// Runs once before the suite: builds the operator console if its sources changed, and says which ledger backends run.
import { buildConsoleIfStale } from '../scripts/build-console.js';

export async function setup(): Promise<void> {
  // The console's HTTP and browser tests serve dist/console; a build takes about 0.1 s and is skipped when current.
  if (await buildConsoleIfStale()) console.log('\n[console] built dist/console for the console tests.');
  if (process.env.TEST_DATABASE_URL) {
    console.log('\n[ledger] TEST_DATABASE_URL is set: ledger tests run on SQLite and on PostgreSQL.\n');
  } else {
    console.log(
      '\n[ledger] TEST_DATABASE_URL is NOT set: PostgreSQL ledger tests are SKIPPED (SQLite only). `.ci/run` sets it.\n',
    );
  }
}
