// Builds the operator console (console/) into dist/console: one hashed JS and CSS bundle, the icon, and index.html.
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = join(root, 'console');
export const CONSOLE_OUT_DIR = join(root, 'dist', 'console');
/** The URL the gateway serves the assets under (src/http/console.ts). */
const ASSETS_URL = '/console/assets/';

const options = (outdir: string, logLevel: esbuild.LogLevel = 'warning'): esbuild.BuildOptions => ({
  entryPoints: [join(source, 'src', 'main.tsx')],
  bundle: true,
  outdir,
  entryNames: '[name]-[hash]',
  format: 'esm',
  // The browsers an operator uses: evergreen ones from the last few years (dialog, :focus-visible, Intl v3).
  target: ['chrome111', 'firefox111', 'safari16.4', 'edge111'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  metafile: true,
  logLevel,
});

/** Fills index.html with the hashed names, so a new build is never mixed with a cached old bundle. */
async function writeIndex(outDir: string, metafile: esbuild.Metafile): Promise<void> {
  const assetsDir = join(outDir, 'assets');
  const outputs = Object.keys(metafile.outputs).map((file) => basename(file));
  const script = outputs.find((file) => /^main-.*\.js$/.test(file));
  const style = outputs.find((file) => /^main-.*\.css$/.test(file));
  if (!script || !style) throw new Error(`the console build made no main JS or CSS: ${outputs.join(', ')}`);
  const icon = await readFile(join(source, 'favicon.svg'));
  const iconName = `favicon-${createHash('sha256').update(icon).digest('hex').slice(0, 8)}.svg`;
  await writeFile(join(assetsDir, iconName), icon);
  const template = await readFile(join(source, 'index.html'), 'utf8');
  const html = template
    .replace('%SCRIPT%', ASSETS_URL + script)
    .replace('%STYLE%', ASSETS_URL + style)
    .replace('%ICON%', ASSETS_URL + iconName);
  await writeFile(join(outDir, 'index.html'), html);
}

/** Builds beside the current build and then swaps, so a failed build leaves the last good one in place. */
export async function buildConsole(logLevel: esbuild.LogLevel = 'warning'): Promise<void> {
  const next = `${CONSOLE_OUT_DIR}.next-${process.pid}`;
  await rm(next, { recursive: true, force: true });
  try {
    await mkdir(join(next, 'assets'), { recursive: true });
    const result = await esbuild.build(options(join(next, 'assets'), logLevel));
    await writeIndex(next, result.metafile!);
    await rm(CONSOLE_OUT_DIR, { recursive: true, force: true });
    await rename(next, CONSOLE_OUT_DIR);
  } finally {
    await rm(next, { recursive: true, force: true });
  }
}

/** The newest modification time under a folder (the console's sources), to skip a build that is already current. */
async function newest(dir: string): Promise<number> {
  let latest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
  }
  return latest;
}

/** Builds unless dist/console is newer than every console source (tests call it once before they run). */
export async function buildConsoleIfStale(logLevel: esbuild.LogLevel = 'warning'): Promise<boolean> {
  if (await isCurrent()) return false;
  await buildConsole(logLevel);
  return true;
}

async function isCurrent(): Promise<boolean> {
  try {
    return (await stat(join(CONSOLE_OUT_DIR, 'index.html'))).mtimeMs >= (await newest(source));
  } catch {
    return false;
  }
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--watch')) {
    // The dev loop: rebuild on every change; the gateway reads the files per request, so a reload shows them.
    await rm(CONSOLE_OUT_DIR, { recursive: true, force: true });
    await mkdir(join(CONSOLE_OUT_DIR, 'assets'), { recursive: true });
    const context = await esbuild.context({
      ...options(join(CONSOLE_OUT_DIR, 'assets')),
      plugins: [
        { name: 'index-html', setup: (build) => build.onEnd((result) => (result.metafile ? writeIndex(CONSOLE_OUT_DIR, result.metafile) : undefined)) },
      ],
    });
    await context.watch();
    console.log(`console: watching ${relative(root, source)}/ → ${relative(root, CONSOLE_OUT_DIR)}/`);
    return;
  }
  const started = performance.now();
  if (argv.includes('--if-stale')) {
    // Before `npm start`: one line on failure (below), not esbuild's whole report.
    if (!(await buildConsoleIfStale('silent'))) return;
  } else await buildConsole();
  console.log(`console: built ${relative(root, CONSOLE_OUT_DIR)}/ in ${Math.round(performance.now() - started)} ms`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const argv = process.argv.slice(2);
  main(argv).catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    if (argv.includes('--if-stale')) {
      // Before `npm start` the API matters more than the console (e.g. installed without dev dependencies): warn, go on.
      console.error(`console: not rebuilt (${message.split('\n')[0]}); the last build, if any, is served. \`npm run build:console\` says why.`);
    } else {
      console.error(`console: build failed: ${message}`);
      process.exitCode = 1;
    }
  });
}
