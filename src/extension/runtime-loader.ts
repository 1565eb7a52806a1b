import { requireWithCodeCache, type CachedRequire } from './code-cache.ts';
import type * as Runtime from './engine-runtime.ts';

export type EngineRuntime = typeof Runtime;

let runtime: EngineRuntime | undefined;
let cached: CachedRequire | undefined;

/**
 * Loads `engine-runtime.cjs` from beside this bundle, once. esbuild.mjs marks it external, so it
 * stays a bundle of its own (see engine-runtime.ts for why) and this require stays a require.
 * `codeCacheDir`: where V8's code cache of the runtime is kept (see code-cache.ts); the window's
 * engine host gives it, as the first to load the runtime.
 */
export function loadRuntime(options: { codeCacheDir?: string } = {}): EngineRuntime {
  if (!runtime) {
    cached = options.codeCacheDir ? requireWithCodeCache(require.resolve('./engine-runtime.cjs'), options.codeCacheDir) : undefined;
    runtime = (cached?.exports ?? require('./engine-runtime.cjs')) as EngineRuntime;
  }
  return runtime;
}

/** Whether the runtime was loaded from V8's code cache (for the log). */
export function runtimeFromCodeCache(): boolean {
  return cached?.cacheUsed ?? false;
}

/**
 * Writes the runtime's code cache if it had none: call once the engine has opened, so the functions
 * compiled for opening are in it too (V8 compiles most functions on their first call).
 */
export function saveRuntimeCodeCache(): void {
  cached?.saveCache();
}
