import fs from 'node:fs';

declare const __ORCHESTR8_VERSION__: string | undefined;

/** The package version: stamped into the bundle by esbuild.mjs, read from package.json when run from sources. */
export function cliVersion(): string {
  if (typeof __ORCHESTR8_VERSION__ === 'string') return __ORCHESTR8_VERSION__;
  return (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}
