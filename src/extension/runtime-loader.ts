import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Runtime from './engine-runtime.ts';

export type EngineRuntime = typeof Runtime;

let runtime: EngineRuntime | undefined;

/**
 * Loads `engine-runtime.cjs` from beside this bundle, once. A computed path, so the bundler leaves
 * the require alone and the runtime stays a bundle of its own (see engine-runtime.ts for why).
 */
export function loadRuntime(): EngineRuntime {
  if (!runtime) {
    const here = path.dirname(fileURLToPath(import.meta.url));
    runtime = createRequire(import.meta.url)(path.join(here, ['engine-runtime', 'cjs'].join('.'))) as EngineRuntime;
  }
  return runtime;
}
