// After tsc: copies what tsc does not (the ledger's SQL migrations) into dist/, and stamps the build.
import { cpSync, writeFileSync } from 'node:fs';

for (const backend of ['postgres', 'sqlite']) {
  cpSync(`src/ledger/${backend}/migrations`, `dist/ledger/${backend}/migrations`, { recursive: true });
}
writeFileSync('dist/.built', `${new Date().toISOString()}\n`);
