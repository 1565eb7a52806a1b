// Bundles the CLI, the VS Code extension, the workflow language server and the snapshot worker into dist/ as CommonJS.
// Type-checking is separate: `npm run typecheck` (tsc --noEmit).
import * as esbuild from 'esbuild';
import fs from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** @type {import('esbuild').BuildOptions} */
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  external: ['vscode'],
  // ESM sources use import.meta.url; in a CJS bundle it comes from the bundle's own file.
  define: { 'import.meta.url': 'importMetaUrl', __ORCHESTR8_VERSION__: JSON.stringify(JSON.parse(fs.readFileSync('package.json', 'utf8')).version) },
  // The extension logs its own load time (banner to footer; see src/extension/extension.ts). `??=` keeps
  // the first bundle's marks: the extension loads before its engine runtime.
  banner: { js: "globalThis.__orchestr8LoadStart ??= performance.now(); const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
  footer: { js: 'globalThis.__orchestr8LoadEnd ??= performance.now();' },
};

// The agent SDK (1.4 MB of JavaScript) is a file of its own next to the bundles, required only when a
// claude-code task runs (src/core/agents/claude-code/load-claude-agent-sdk.ts): start-up and activation never
// load it. Its native `claude` executable (~380 MB) is never bundled; see claude-code-executable.ts.
const agentSdkAsSibling = {
  name: 'agent-sdk-as-sibling',
  setup(build) {
    build.onResolve({ filter: /^@anthropic-ai\/claude-agent-sdk$/ }, () => ({ path: './claude-agent-sdk.cjs', external: true }));
  },
};
const agentSdk = {
  ...common,
  entryPoints: { 'claude-agent-sdk': 'node_modules/@anthropic-ai/claude-agent-sdk/sdk.mjs' },
  banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
  footer: {},
  sourcemap: false,
};

const entryPoints = {
  cli: 'src/cli/cli.ts',
  'snapshot-worker': 'src/core/store/snapshot-worker.ts',
  // The workflow language server, started by the extension's language client as its own process.
  'workflow-server': 'src/servers/lsp/workflow-server-main.ts',
};
if (fs.existsSync('src/extension/extension.ts')) {
  entryPoints.extension = 'src/extension/extension.ts';
  // Loaded after activation: the engine, sql.js and the workflow parser (see src/extension/engine-runtime.ts).
  entryPoints['engine-runtime'] = 'src/extension/engine-runtime.ts';
}
// Loaded when the first workflow file opens: the language client library (see src/extension/workflow-language-client.ts).
entryPoints['workflow-client'] = 'src/extension/workflow-client-runtime.ts';

fs.mkdirSync('dist', { recursive: true });
fs.copyFileSync('node_modules/sql.js/dist/sql-wasm.wasm', 'dist/sql-wasm.wasm');
const options = { ...common, entryPoints, plugins: [agentSdkAsSibling] };
if (watch) {
  await (await esbuild.context(options)).watch();
  await esbuild.build(agentSdk);
} else await Promise.all([esbuild.build(options), esbuild.build(agentSdk)]);
fs.chmodSync('dist/cli.cjs', 0o755);
