// The benchmark measures the compiled gateway (`node dist/server.js`, as `npm start` runs it): build it when stale.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const mtimeOf = (path: string): number => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
};

/** The newest modification time under a folder. */
const newest = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce((latest, entry) => {
    const path = join(dir, entry.name);
    return Math.max(latest, entry.isDirectory() ? newest(path) : mtimeOf(path));
  }, 0);

/** Runs `npm run build` when dist/ is missing or older than src/ (the same rule as `npm start`). */
export async function ensureBuilt(root: string, log: (message: string) => void): Promise<void> {
  if (mtimeOf(join(root, 'dist', '.built')) >= newest(join(root, 'src'))) return;
  log('bench: dist/ is missing or older than src/: npm run build');
  const built = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (built.status !== 0) throw new Error('npm run build failed; see above');
}
