// The service as `npm start` runs it: src/app/main.ts and what it imports, compiled by esbuild
// into one JavaScript file, dist/service.mjs, that plain Node runs (packages stay in
// node_modules, imported as they are). Running the TypeScript through tsx instead cost about
// a fifth of the webhook path's CPU: tsx compiles with esbuild's keepNames, which wraps every
// named function and arrow a request creates in a `__name` call (Object.defineProperty on each
// closure), and loads every module through its hooks (docs/architecture.md, "Round fourteen").
// The build takes a fraction of a second, so every start builds afresh: never a stale file.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The built service, beside the sources it was built from (its imports resolve from here). */
export const SERVICE_BUNDLE = path.join(root, 'dist', 'service.mjs');

/** Builds the service (src/app/main.ts) into SERVICE_BUNDLE; resolves to its path. */
export async function buildService() {
  // The assist thread's own script (src/assist/assist-thread-entry.ts), built beside it under a
  // name with its content's hash, which the service's build names. A start that rebuilds dist/
  // while another service from the same checkout runs (`start:api` beside `start:worker`, or a
  // newer checkout) never hands that service a thread of other code: the same sources make the
  // same file, other sources another file.
  const dist = path.join(root, 'dist');
  const thread = await buildBundle(
    path.join(root, 'src', 'assist', 'assist-thread.ts'),
    path.join(dist, 'assist-thread.mjs'),
    { hashed: true },
  );
  removeOldThreadScripts(dist, path.basename(thread));
  return buildBundle(path.join(root, 'src', 'app', 'main.ts'), SERVICE_BUNDLE, {
    define: { 'process.env.SEATMATE_ASSIST_THREAD': JSON.stringify(path.basename(thread)) },
  });
}

/** Thread scripts of other builds, a week after their last build: no running service needs one. */
function removeOldThreadScripts(dist, current) {
  const weekAgo = Date.now() - 7 * 24 * 3600 * 1000;
  for (const name of fs.readdirSync(dist)) {
    if (!/^assist-thread-\w+\.mjs(\.map)?$/.test(name) || name.startsWith(current)) continue;
    const file = path.join(dist, name);
    if (fs.statSync(file).mtimeMs < weekAgo) fs.rmSync(file, { force: true });
  }
}

/**
 * Modules find their files (lexicon, model, pages, widget script, prompts) relative to their
 * own `import.meta.url`. In one bundle that would be the bundle's URL for all of them, so each
 * module's is replaced by its source file's URL, written relative to the bundle: the bundle
 * reads the same files as the sources do, from wherever the checkout is.
 */
function sourceUrls(outDir) {
  return {
    name: 'source-import-meta-url',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        const text = await fs.promises.readFile(args.path, 'utf8');
        // Only `import.meta.url` is rewritten: the others would silently name dist/ instead.
        const other = /\bimport\.meta\.(dirname|filename)\b/.exec(text);
        if (other)
          return {
            errors: [
              {
                text: `${path.relative(root, args.path)}: import.meta.${other[1]} would point into dist/ once built; use import.meta.url`,
              },
            ],
          };
        const relative = path.relative(outDir, args.path).split(path.sep).join('/');
        const own = `new URL(${JSON.stringify(relative)}, import.meta.url).href`;
        return { contents: text.replace(/\bimport\.meta\.url\b/g, own), loader: 'ts' };
      });
    },
  };
}

/**
 * Bundles `entry` into `outfile` (with its source map, so stack traces name the TypeScript
 * lines), or with `hashed`, into `outfile`'s name plus the content's hash; resolves to the
 * file written. Written under temporary names and renamed into place: a process starting while
 * another start rebuilds reads the old file or the new one, never half of one. `define` adds
 * to esbuild's replacements.
 */
export async function buildBundle(entry, outfile, { hashed = false, define = {} } = {}) {
  const outDir = path.dirname(outfile);
  fs.mkdirSync(outDir, { recursive: true });
  // Imported here, not at the top: `npm start` imports this module before it installs a fresh
  // clone's node_modules (scripts/start.mjs), and esbuild is one of those packages.
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [entry],
    ...(hashed
      ? { outdir: path.dirname(outfile), entryNames: `${path.basename(outfile, '.mjs')}-[hash]` }
      : { outfile }),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    sourcesContent: false,
    write: false,
    logLevel: 'silent',
    // Code that must know it runs built (src/assist/assist-thread-entry.ts) reads this.
    define: { 'process.env.SEATMATE_BUNDLED': '"1"', ...define },
    plugins: [sourceUrls(outDir)],
  });
  const temporary = `.${process.pid}-${Date.now()}.tmp`;
  for (const file of result.outputFiles) fs.writeFileSync(file.path + temporary, file.contents);
  for (const file of result.outputFiles) fs.renameSync(file.path + temporary, file.path);
  return result.outputFiles.find((file) => file.path.endsWith('.mjs'))?.path ?? outfile;
}
