// The README's tables and .env.example agree with the code: every error code with its status, every configuration variable.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ERROR_STATUS } from '../../src/http/error-status.js';
import { ENV_VARIABLES } from '../../src/config.js';

const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');

/** Body rows of the first markdown table under a heading (header and separator rows left out). */
function tableAfter(heading: string): string[][] {
  const from = readme.indexOf(heading);
  const to = readme.indexOf('\n## ', from + heading.length);
  const section = readme.slice(from, to === -1 ? undefined : to);
  const table = section.slice(section.indexOf('\n|') + 1).split('\n\n')[0] ?? '';
  return table
    .split('\n')
    .slice(2)
    .filter((line) => line.startsWith('|'))
    .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
}

describe('README.md', () => {
  it('when it lists the error codes, then each has the status the code maps to, and none is missing', () => {
    const rows = tableAfter('## Errors');
    const documented = Object.fromEntries(rows.map(([status, code]) => [code?.replaceAll('`', ''), Number(status)]));
    expect(documented).toEqual(ERROR_STATUS);
  });

  it('when it lists the configuration, then every variable the gateway reads is there', () => {
    const rows = tableAfter('## Configuration');
    const documented = rows.map(([name]) => name?.replaceAll('`', '')).sort();
    expect(documented).toEqual([...ENV_VARIABLES].sort());
  });

  it('when it starts, then the first two commands run the sandbox and the whole test suite', () => {
    const firstBlock = readme.slice(readme.indexOf('```sh'), readme.indexOf('```', readme.indexOf('```sh') + 5));
    expect(firstBlock).toContain('npm ci && npm run sandbox');
    expect(firstBlock).toContain('npm test');
  });
});

describe('.env.example', () => {
  it('when read, then it names every variable the gateway reads, each once, and nothing else', async () => {
    const example = await readFile(new URL('../../.env.example', import.meta.url), 'utf8');
    // A variable is a line `NAME=…`, commented out (`# NAME=…`) or not.
    const named = [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
    expect([...named].sort()).toEqual([...ENV_VARIABLES].sort());
  });
});
