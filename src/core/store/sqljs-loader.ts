import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import initSqlJs from 'sql.js';
import type { SqlJsStatic } from 'sql.js';

let loading: Promise<SqlJsStatic> | undefined;

/** Loads sql.js once per thread; the wasm sits beside the bundle, or in node_modules when running from source. */
export function loadSqlJs(): Promise<SqlJsStatic> {
  loading ??= initSqlJs({ locateFile: locateWasm });
  return loading;
}

function locateWasm(file: string): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const bundled = path.join(here, file);
  if (fs.existsSync(bundled)) return bundled;
  return createRequire(import.meta.url).resolve(`sql.js/dist/${file}`);
}
