import fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/** A CommonJS bundle loaded through V8's code cache; `saveCache` writes what V8 compiled so far, when the cache was missing or stale. */
export interface CachedRequire {
  exports: unknown;
  /** Whether V8 took the cache it was given (false: none yet, or made for another bundle or V8). */
  cacheUsed: boolean;
  saveCache(): void;
}

/**
 * Requires `file` (a CommonJS bundle) as `require` would, with V8's code cache for it kept in
 * `cacheDir`. Parsing and compiling the 3 MB engine runtime is half of its load (~85 of ~170 ms
 * of CPU, on every window load and reload); from the cache it is a few ms. The cache is named by
 * the bundle's size and time and by V8's version, so an updated extension or VS Code never uses a
 * stale one (V8 also rejects a cache that is not its own; then it is written again).
 *
 * Undefined when this Node cannot let such a script `import()` (the bundles load the agent SDK
 * that way): the caller then requires the bundle as usual.
 */
export function requireWithCodeCache(file: string, cacheDir: string): CachedRequire | undefined {
  const importModuleDynamically = vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  if (importModuleDynamically === undefined) return undefined;
  const stat = fs.statSync(file);
  const stem = `${path.basename(file)}-`;
  const cacheFile = path.join(cacheDir, `${stem}${stat.size}-${Math.round(stat.mtimeMs)}-v8-${process.versions.v8}-${process.arch}.code-cache`);
  let cachedData: Buffer | undefined;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    // None yet: compiled from source, and the cache written by saveCache.
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), {
    filename: file,
    cachedData,
    importModuleDynamically,
  });
  const cacheUsed = cachedData !== undefined && !script.cachedDataRejected;
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
  const dir = path.dirname(file);
  const mod = new Module(file);
  mod.filename = file;
  const require = createRequire(file);
  mod.paths = require.resolve.paths('x') ?? [];
  // Registered as `require` would, so a later require of the same file gets this instance.
  require.cache[file] = mod;
  try {
    wrapper.call(mod.exports, mod.exports, require, mod, file, dir);
  } catch (error) {
    delete require.cache[file];
    throw error;
  }
  mod.loaded = true;
  return {
    exports: mod.exports,
    cacheUsed,
    saveCache() {
      if (cacheUsed) return;
      try {
        fs.mkdirSync(cacheDir, { recursive: true });
        for (const old of fs.readdirSync(cacheDir))
          if (old.startsWith(stem) && old.endsWith('.code-cache')) fs.rmSync(path.join(cacheDir, old), { force: true });
        const temp = `${cacheFile}.${process.pid}.tmp`;
        fs.writeFileSync(temp, script.createCachedData());
        fs.renameSync(temp, cacheFile);
      } catch {
        // Only a faster next load is lost.
      }
    },
  };
}
