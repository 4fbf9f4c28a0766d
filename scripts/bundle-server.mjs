// After tsc: bundles dist/server.js and all it imports into dist/gateway.bundle.js, and makes dist/server.js a loader of it.
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { build } from 'esbuild';

const dist = resolve('dist');
const entry = resolve(dist, 'server.js');
const bundle = resolve(dist, 'gateway.bundle.js');
const LOADER_MARK = '// bundle-server: loader';
/**
 * What `node dist/server.js` runs: Node's module compile cache first, where the running Node has it (22.1+; Node 20
 * has not: skipped), so a restart reuses V8's compiled code of the bundle; then the bundle.
 */
const LOADER = `${LOADER_MARK}. Starts the gateway bundled by scripts/bundle-server.mjs; npm run build writes both.
import module from 'node:module';

module.enableCompileCache?.();
await import('./gateway.bundle.js');
`;

if ((await readFile(entry, 'utf8')).startsWith(LOADER_MARK)) {
  throw new Error('dist/server.js is already the loader: run `npm run build` (tsc writes the real entry first)');
}

/**
 * Why: Node's ESM loader resolves, reads and compiles each of the ~1 000 files the gateway imports one by one; on two
 * busy cores that was about half of the start (spawn → ready 1.0–1.5 s). One file halves it.
 * Our own modules find files next to them (the SQL migrations, the console) through import.meta.url: in the bundle
 * that would be dist/server.js for all of them, so each keeps its own URL, made relative to the bundle (dist/ moves as
 * a whole). Kept outside the bundle: the native SQLite addon, and Swagger UI, which serves files from its package.
 */
const ownImportMetaUrl = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      if (!args.path.startsWith(`${dist}/`)) return undefined;
      const source = await readFile(args.path, 'utf8');
      if (!source.includes('import.meta.url')) return undefined;
      const own = JSON.stringify(`./${relative(dirname(bundle), args.path)}`);
      return { contents: source.replaceAll('import.meta.url', `new URL(${own}, import.meta.url).href`), loader: 'js' };
    });
  },
};

await build({
  entryPoints: [entry],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['better-sqlite3', '@fastify/swagger-ui', 'pg-native'],
  // CommonJS packages inside an ES module bundle still call require and read __dirname / __filename.
  banner: {
    js: [
      "import { createRequire as __bundleRequire } from 'node:module';",
      "import { fileURLToPath as __bundlePath } from 'node:url';",
      "import { dirname as __bundleDir } from 'node:path';",
      'const require = __bundleRequire(import.meta.url);',
      'const __filename = __bundlePath(import.meta.url);',
      'const __dirname = __bundleDir(__filename);',
    ].join('\n'),
  },
  plugins: [ownImportMetaUrl],
  logLevel: 'warning',
  // Whitespace and syntax only, names kept (stack traces still name functions): 4.5 -> 2.8 MB, so Node reads, decodes
  // and compiles less at every start (~-30 ms ready, -6 MB idle RSS here).
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
});
await writeFile(entry, LOADER);
