// Bundles the CLI, the VS Code extension, the workflow language server and the index worker into dist/ as CommonJS.
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
  // esbuild: only the sources' own dev path imports it (state-index.ts), never a bundle.
  external: ['vscode', 'esbuild'],
  // ESM sources use import.meta.url; in a CJS bundle it comes from the bundle's own file.
  define: { 'import.meta.url': 'importMetaUrl', __ORCHESTR8_VERSION__: JSON.stringify(JSON.parse(fs.readFileSync('package.json', 'utf8')).version) },
  // The extension logs its own load time (banner to footer; see src/extension/extension.ts). `??=` keeps
  // the first bundle's marks: the extension loads before its engine runtime.
  banner: { js: "globalThis.__orchestr8LoadStart ??= performance.now(); const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
  footer: { js: 'globalThis.__orchestr8LoadEnd ??= performance.now();' },
};

/**
 * `@anthropic-ai/sandbox-runtime` is a bundle of its own (dist/sandbox-runtime.cjs), required
 * from beside the bundle that imports it, only when a sandboxed command runs: it stays out of
 * activation and of the engine runtime's load. Its seccomp helper (the filter that blocks Unix
 * sockets) goes to dist/vendor/seccomp/<arch>/, where the bundled runtime looks for it.
 */
const sandboxRuntimeAlone = {
  name: 'sandbox-runtime-alone',
  setup(build) {
    build.onResolve({ filter: /^@anthropic-ai\/sandbox-runtime$/ }, () => ({ path: './sandbox-runtime.cjs', external: true }));
  },
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
// The extension's engine runtime (src/extension/runtime-loader.ts requires it): a bundle of its own,
// loaded after activation (see src/extension/engine-runtime.ts), never inlined into extension.cjs.
const engineRuntimeAsSibling = {
  name: 'engine-runtime-as-sibling',
  setup(build) {
    build.onResolve({ filter: /^\.\/engine-runtime\.cjs$/ }, (args) => ({ path: args.path, external: true }));
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
  // The command line alone; its commands load from cli-read.cjs (status, result, log),
  // cli-validate.cjs or engine-runtime.cjs (the rest) when they run (see src/cli/command-loader.ts).
  cli: 'src/cli/cli.ts',
  'cli-read': 'src/cli/cli-read-commands.ts',
  'cli-validate': 'src/cli/cli-validate-command.ts',
  'sandbox-runtime': 'node_modules/@anthropic-ai/sandbox-runtime/dist/index.js',
  // The index worker: the thread that owns the sql.js database (see src/core/store/state-index.ts).
  'index-worker': 'src/core/store/index-worker/worker.ts',
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
for (const arch of ['x64', 'arm64']) {
  fs.mkdirSync(`dist/vendor/seccomp/${arch}`, { recursive: true });
  fs.copyFileSync(`node_modules/@anthropic-ai/sandbox-runtime/vendor/seccomp/${arch}/apply-seccomp`, `dist/vendor/seccomp/${arch}/apply-seccomp`);
}
const options = { ...common, entryPoints, plugins: [agentSdkAsSibling, sandboxRuntimeAlone, engineRuntimeAsSibling] };
if (watch) {
  await (await esbuild.context(options)).watch();
  await esbuild.build(agentSdk);
} else await Promise.all([esbuild.build(options), esbuild.build(agentSdk)]);
fs.chmodSync('dist/cli.cjs', 0o755);
