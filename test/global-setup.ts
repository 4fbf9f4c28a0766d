// Runs once before the suite: says plainly which ledger backends the run covers.
export function setup(): void {
  if (process.env.TEST_DATABASE_URL) {
    console.log('\n[ledger] TEST_DATABASE_URL is set: ledger tests run on SQLite and on PostgreSQL.\n');
  } else {
    console.log(
      '\n[ledger] TEST_DATABASE_URL is NOT set: PostgreSQL ledger tests are SKIPPED (SQLite only). `.ci/run` sets it.\n',
    );
  }
}
