// `npm start`: runs the compiled gateway (node, no TypeScript loader), building dist/ first when it is missing or older than src/ or console/.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const stamp = join(root, 'dist', '.built');

const mtimeOf = (path) => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
};
/** The newest modification time under a folder (a few hundred files: milliseconds). */
const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((latest, entry) => {
    const path = join(dir, entry.name);
    return Math.max(latest, entry.isDirectory() ? newest(path) : mtimeOf(path));
  }, 0);

// console/ (the operator console) is built by the same npm run build; an installed package may ship only dist/.
const sources = ['src', 'console'].map((dir) => join(root, dir)).filter((dir) => existsSync(dir));
if (mtimeOf(stamp) < Math.max(...sources.map(newest))) {
  console.error('start: dist/ is missing or older than src/ or console/: building first (npm run build)');
  const built = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) {
    console.error('start: the build failed; see above');
    process.exit(built.status ?? 1);
  }
}
await import(join(root, 'dist', 'server.js'));
