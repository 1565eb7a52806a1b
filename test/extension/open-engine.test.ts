// The extension's engine runtime in plain Node (no `vscode`): what a window owns when it opens the
// workspace's store. Real parts throughout: a sql.js store in a temp folder, the real agent runner
// talking to the local Messages server through the base URL setting, the real local HTTP API, a real
// webhook receiver on loopback, and a real redis-server for BullMQ mode.
import { strict as assert } from 'node:assert';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Queue } from 'bullmq';
import type { EngineEvent } from '../../src/core/model/events.ts';
import { DEFAULT_QUEUE } from '../../src/core/queue/task-job.ts';
import { verifyWebhookSignature } from '../../src/core/notifications/webhook-signature.ts';
import { readLock } from '../../src/core/store/state-lock.ts';
import type { Logger } from '../../src/core/util/logger.ts';
import { FakeAnthropicServer } from '../../src/devtools/fake-anthropic/fake-anthropic-server.ts';
import { textReply, toolReply } from '../../src/devtools/fake-anthropic/scripted-response.ts';
import type { OwnerStack, ReaderAccess } from '../../src/servers/engine-access.ts';
import {
  extensionResultsOptions,
  openWorkspaceEngine,
  type ExtensionResultsSettings,
  tryOpenOwner,
  WINDOW_SNAPSHOT_THRESHOLD,
  windowSnapshotThreshold,
  type OpenEngineOptions,
  type WorkspaceEngine,
} from '../../src/extension/open-engine.ts';
import { makeAgentProject, type AgentProject } from '../support/agent-project.ts';
import { redisMissingReason, RedisServer } from '../support/redis-server.ts';
import { stillHolds } from '../support/until.ts';

let server: FakeAnthropicServer;
let project: AgentProject;

before(async () => {
  server = await FakeAnthropicServer.start();
  project = await makeAgentProject({ writer: { frontmatter: 'tools: Read, Write\n', prompt: 'You write files.' } });
});
after(async () => {
  await server.close();
  await project.dispose();
});

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const add = (level: string) => (message: string, error?: unknown) => void lines.push(`${level}: ${message}${error ? ` ${String(error)}` : ''}`);
  return { lines, debug: add('debug'), info: add('info'), warn: add('warn'), error: add('error') };
}

let stateCount = 0;
function options(extra: Partial<OpenEngineOptions> = {}): OpenEngineOptions {
  return {
    stateDir: join(project.root, '.state', `s${++stateCount}`),
    cwd: project.root,
    concurrency: 2,
    defaultModel: 'claude-sonnet-5-5',
    apiKey: async () => server.apiKey,
    anthropicBaseUrl: server.url,
    logger: recordingLogger(),
    ownerWaitMs: 0,
    ...extra,
  };
}

function ownerOf(opened: WorkspaceEngine): OwnerStack {
  assert.equal(opened.kind, 'owner');
  return opened as OwnerStack;
}

function readerOf(opened: WorkspaceEngine): ReaderAccess {
  assert.equal(opened.kind, 'reader');
  return opened as ReaderAccess;
}

function finished(opened: WorkspaceEngine, runId: string): Promise<EngineEvent> {
  return new Promise((resolve) => {
    const sub = opened.engine.onEvent((e) => {
      if ((e.type === 'workflow.completed' || e.type === 'workflow.failed' || e.type === 'workflow.cancelled') && e.run.id === runId) {
        sub.dispose();
        resolve(e);
      }
    });
  });
}

/** Every file under `dir`, as text (sql.js pages included: a secret must not appear in any byte). */
function allBytes(dir: string): string {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile())
    .map((f) => readFileSync(f).toString('latin1'))
    .join('\n');
}

test('agent tasks run on the Messages server named by the base URL setting, with the stored key; the key never reaches the state folder', async () => {
  const opts = options();
  const opened = await openWorkspaceEngine(opts);
  try {
    assert.equal(opened.kind, 'owner');
    server.enqueue(toolReply([{ name: 'write_file', input: { path: 'notes.md', content: 'written by the agent\n' } }]), textReply('Wrote notes.md.'));
    const { runId, taskIds } = await opened.engine.launch({
      task: { name: 'write notes', action: { kind: 'agent', agent: 'writer', prompt: 'write notes' } },
      cwd: project.root,
    });
    const done = await finished(opened, runId);
    assert.equal(done.type, 'workflow.completed', JSON.stringify(await opened.engine.status(runId)));
    assert.equal((await opened.engine.result(taskIds[0]!))?.output, 'Wrote notes.md.');
    assert.equal(readFileSync(join(project.root, 'notes.md'), 'utf8'), 'written by the agent\n');
    assert.equal(server.requests.length, 2);
    const { headers } = server.requests[0]!;
    assert.ok(headers['x-api-key'] === server.apiKey || headers.authorization === `Bearer ${server.apiKey}`, 'the stored key is sent');
    assert.equal(server.requests[0]!.body.model, 'claude-sonnet-5-5', 'the default model setting applies when neither task nor agent names one');
  } finally {
    await opened.close();
  }
  assert.ok(!allBytes(opts.stateDir).includes(server.apiKey), 'the API key is not in the state folder');
  assert.ok(!(opts.logger as ReturnType<typeof recordingLogger>).lines.some((l) => l.includes(server.apiKey)), 'the API key is not logged');
});

test('without a stored key the runner falls back to ANTHROPIC_API_KEY', async () => {
  const saved = process.env['ANTHROPIC_API_KEY'];
  process.env['ANTHROPIC_API_KEY'] = server.apiKey;
  // The base URL as the window passes it: read when each task starts.
  const opened = await openWorkspaceEngine(options({ apiKey: async () => undefined, anthropicBaseUrl: () => server.url }));
  try {
    server.enqueue(textReply('fine'));
    const { runId } = await opened.engine.launch({ task: { action: { kind: 'agent', agent: 'writer', prompt: 'hi' } }, cwd: project.root });
    assert.equal((await finished(opened, runId)).type, 'workflow.completed');
  } finally {
    await opened.close();
    if (saved === undefined) delete process.env['ANTHROPIC_API_KEY'];
    else process.env['ANTHROPIC_API_KEY'] = saved;
  }
});

test('the SDK deprecation warning reaches the window once per model, however many tasks use it', async () => {
  const warnings: string[] = [];
  const opened = await openWorkspaceEngine(options({ defaultModel: 'claude-sonnet-4-5', onAgentWarning: (w) => warnings.push(w) }));
  try {
    for (let i = 0; i < 2; i++) {
      server.enqueue(textReply(`answer ${i}`));
      const { runId } = await opened.engine.launch({ task: { action: { kind: 'agent', agent: 'writer', prompt: `task ${i}` } }, cwd: project.root });
      assert.equal((await finished(opened, runId)).type, 'workflow.completed');
    }
  } finally {
    await opened.close();
  }
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /The model 'claude-sonnet-4-5' is deprecated/);
});

test('the owner serves the local HTTP API (token in api.json, mode 0600) and takes it down before the engine closes', async () => {
  const opts = options();
  const opened = await openWorkspaceEngine(opts);
  const discovery = join(opts.stateDir, 'api.json');
  let url: string;
  try {
    const apiUrl = (await ownerOf(opened).services).api?.url;
    assert.ok(apiUrl, 'the owner reports its API address');
    const info = JSON.parse(readFileSync(discovery, 'utf8')) as { url: string; token: string; pid: number };
    url = info.url;
    assert.equal(info.url, apiUrl);
    assert.equal(info.pid, process.pid);
    assert.equal(statSync(discovery).mode & 0o777, 0o600);
    assert.match(info.url, /^http:\/\/127\.0\.0\.1:\d+$/);

    assert.equal((await fetch(`${info.url}/v1/runs`)).status, 401, 'no token, no answer');
    // Another process (the CLI, the MCP server) launches through it; the window's engine runs the task.
    const launched = await fetch(`${info.url}/v1/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${info.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ run: 'echo from the api', name: 'via api' }),
    });
    assert.equal(launched.status, 202, await launched.clone().text());
    const { runId } = (await launched.json()) as { runId: string };
    assert.equal((await finished(opened, runId)).type, 'workflow.completed');
    const { tasks } = await opened.engine.status(runId);
    assert.match((await opened.engine.result(tasks[0]!.id))?.output ?? '', /from the api/);

    // A second window reads the store and serves nothing.
    const viewer = await openWorkspaceEngine(opts);
    assert.equal(viewer.kind, 'reader');
    assert.equal('services' in viewer, false, 'a reader starts no services');
    assert.equal(JSON.parse(readFileSync(discovery, 'utf8')).token, info.token, 'the owner’s api.json stays');
    assert.equal(await tryOpenOwner(opts), undefined, 'no take-over while the owner lives');
    await viewer.close();
  } finally {
    await opened.close();
  }
  assert.ok(!existsSync(discovery), 'api.json removed on close');
  await assert.rejects(fetch(`${url}/v1/health`), 'the port is closed');
  assert.equal(readLock(opts.stateDir), undefined, 'lock released');

  // Once the owner is gone, a polling window takes over, API and all.
  const taken = await tryOpenOwner(opts);
  assert.ok(taken && (await taken.services).api?.url);
  await taken.close();
});

test('a second window follows the owner’s runs live, with no reload, and hears the owner leave', async () => {
  const opts = options();
  const opened = await openWorkspaceEngine(opts);
  let viewer: ReaderAccess | undefined;
  try {
    viewer = readerOf(await openWorkspaceEngine(opts));
    let reloads = 0;
    viewer.engine.onDidReload(() => reloads++);
    const seen: string[] = [];
    viewer.engine.onEvent((e) => seen.push(e.type));
    const { runId } = await opened.engine.launch({ task: { name: 'followed', action: { kind: 'run', run: 'echo followed' } }, cwd: project.root });
    const done = await Promise.race([finished(viewer, runId), new Promise<undefined>((r) => setTimeout(r, 10_000, undefined))]);
    assert.equal(done?.type, 'workflow.completed', `the viewer heard: ${seen.join(', ')}`);
    assert.deepEqual(seen.slice(0, 1), ['workflow.launched']);
    assert.ok(seen.includes('task.started') && seen.includes('task.completed'), seen.join(', '));
    const { run, tasks } = await viewer.engine.status(runId);
    assert.equal(run.state, 'completed');
    assert.match((await viewer.engine.result(tasks[0]!.id))?.output ?? '', /followed/);
    assert.equal(reloads, 0, 'followed, not reloaded');
    const ownerLeft = new Promise<void>((resolve) => viewer!.engine.onOwnerChanged(resolve));
    await opened.close();
    await Promise.race([ownerLeft, new Promise((_, reject) => setTimeout(() => reject(new Error('the viewer never heard the owner leave')), 5000))]);
    const taken = await tryOpenOwner(opts);
    assert.ok(taken, 'and can take over');
    await taken.close();
  } finally {
    await viewer?.close();
    await opened.close();
  }
});

test('a window folds its journal into a snapshot every 512 KiB, so a reload loads a snapshot instead of replaying a long journal', async () => {
  const opts = options();
  const opened = await openWorkspaceEngine(opts);
  try {
    const journal = join(opts.stateDir, 'journal');
    const journalBytes = () => readdirSync(journal).reduce((sum, f) => sum + statSync(join(journal, f)).size, 0);
    // Finished one-task runs until the journal has passed the window's threshold (~3 KiB each), well under the store's own 4 MiB.
    let completed = 0;
    opened.engine.onEvent((e) => e.type === 'workflow.completed' && completed++);
    for (let launched = 0; journalBytes() < WINDOW_SNAPSHOT_THRESHOLD + 64 * 1024; ) {
      await Promise.all(
        Array.from({ length: 20 }, () => opened.engine.launch({ task: { action: { kind: 'noop', output: 'x'.repeat(200) } }, cwd: project.root })),
      );
      launched += 20;
      for (let i = 0; completed < launched; i++) {
        assert.ok(i < 200, `${launched - completed} runs never finished`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    for (let i = 0; !readdirSync(opts.stateDir).some((f) => /^snapshot-\d+\.sqlite$/.test(f)); i++) {
      assert.ok(i < 100, `no snapshot after ${journalBytes()} bytes of journal: ${readdirSync(opts.stateDir).join(', ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await opened.close();
  }
});

test('a store with a long history is folded less often: a quarter of its newest snapshot, up to the store’s 4 MiB', async () => {
  const dir = join(project.root, '.state', `sizes${++stateCount}`);
  mkdirSync(dir, { recursive: true });
  assert.equal(windowSnapshotThreshold(dir), WINDOW_SNAPSHOT_THRESHOLD, 'no snapshot yet');
  const snapshot = (seq: number, bytes: number) => {
    const file = join(dir, `snapshot-${String(seq).padStart(16, '0')}.sqlite`);
    writeFileSync(file, Buffer.alloc(bytes));
    writeFileSync(`${file}.sha256`, '{}');
  };
  snapshot(1, 1024 * 1024);
  assert.equal(windowSnapshotThreshold(dir), WINDOW_SNAPSHOT_THRESHOLD, 'a small history: 512 KiB');
  snapshot(2, 8 * 1024 * 1024);
  assert.equal(windowSnapshotThreshold(dir), 2 * 1024 * 1024, 'the newest snapshot counts');
  snapshot(3, 40 * 1024 * 1024);
  assert.equal(windowSnapshotThreshold(dir), 4 * 1024 * 1024, 'never above the store’s own');
});

test('runs finish through the results hooks: signed webhooks go to the configured URLs with the stored secret', async () => {
  const received: Array<{ body: string; headers: IncomingMessage['headers'] }> = [];
  const receiver: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ body, headers: req.headers });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', ok));
  const port = (receiver.address() as { port: number }).port;
  const secret = 'whsec-test-secret';
  const opts = options({ results: async () => ({ webhookUrls: [`http://127.0.0.1:${port}/hook`], webhookSecret: secret }) });
  const opened = await openWorkspaceEngine(opts);
  try {
    const { runId } = await opened.engine.launch({ task: { name: 'hooked', action: { kind: 'run', run: 'echo hooked' } }, cwd: project.root });
    assert.equal((await finished(opened, runId)).type, 'workflow.completed');
    for (let i = 0; !received.some((r) => r.body.includes(runId) && r.headers['x-orchestr8-event'] === 'workflow.completed'); i++) {
      assert.ok(i < 100, `no workflow.completed webhook: ${JSON.stringify(received.map((r) => r.headers['x-orchestr8-event']))}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const delivery = received.find((r) => r.headers['x-orchestr8-event'] === 'workflow.completed')!;
    assert.ok(verifyWebhookSignature(delivery.body, delivery.headers['x-orchestr8-signature'] as string, secret), 'signed with the secret');
    // The project is no git repository: the run worked in place, and says why.
    const { run } = await opened.engine.status(runId);
    assert.match(JSON.stringify(run.delivery?.notes ?? ''), /not in a git repository/);
  } finally {
    await opened.close();
    await new Promise((ok) => receiver.close(ok));
  }
  assert.ok(!allBytes(opts.stateDir).includes(secret), 'the webhook secret is not in the state folder');
});

test('the store opens without waiting for the results settings (VS Code’s GitHub session); a run launched meanwhile is delivered once they come', async () => {
  let give!: (settings: ExtensionResultsSettings) => void;
  const settings = new Promise<ExtensionResultsSettings>((resolve) => (give = resolve));
  const opts = options({ results: () => settings });
  // Before: the open waited for the session, so a reloaded window showed no runs until it came.
  const opened = await Promise.race([
    openWorkspaceEngine(opts),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the open waited for the results settings')), 10_000)),
  ]);
  try {
    assert.equal(opened.kind, 'owner');
    assert.deepEqual((await opened.engine.list({ limit: 1 })).total, 0, 'queries are answered meanwhile');
    const { runId } = await opened.engine.launch({ task: { name: 'early', action: { kind: 'run', run: 'echo early' } }, cwd: project.root });
    let ended = false;
    const end = finished(opened, runId).then((e) => ((ended = true), e));
    // Its run waits for the results hooks (its worktree, its branch), which wait for the settings.
    // Nothing follows until the test gives them, so a bounded check: a one-line shell run that did
    // not wait would end within 300 ms on all but a stalled machine.
    await stillHolds('the run and the API wait for the results settings', () => !ended && !existsSync(join(opts.stateDir, 'api.json')), 300);
    give({ webhookUrls: [] });
    assert.equal((await end).type, 'workflow.completed');
    assert.ok((await ownerOf(opened).services).api, 'then the API started');
    const { run } = await opened.engine.status(runId);
    assert.match(JSON.stringify(run.delivery?.notes ?? ''), /not in a git repository/, 'delivered by the results hooks');
  } finally {
    await opened.close();
  }
});

test('a window waiting for a reloading one’s store asks for the results settings once, when it holds the store', async () => {
  const opts = options();
  const first = await openWorkspaceEngine(opts); // the window being reloaded: its lock says vscode
  let asked = 0;
  const waiting = openWorkspaceEngine({ ...opts, ownerWaitMs: 30_000, results: async () => (asked++, { webhookUrls: [] }) });
  // It retries every 250 ms while the old owner closes; before, each try asked VS Code for its
  // GitHub session. Watched over 1.2 s, its first try and several retries: none may ask.
  await stillHolds('no ask while another window holds the store', () => asked === 0, 1200);
  await first.close();
  const second = await waiting;
  try {
    assert.equal(second.kind, 'owner');
    await ownerOf(second).services;
    assert.equal(asked, 1);
  } finally {
    await second.close();
  }
});

test('orchestr8.redisUrl: an unreachable Redis fails the open with a clear message and leaves the store free', async () => {
  const opts = options({ redisUrl: 'redis://127.0.0.1:1/0' });
  await assert.rejects(openWorkspaceEngine(opts), /BullMQ mode \(orchestr8\.redisUrl\): .*127\.0\.0\.1:1/);
  assert.equal(readLock(opts.stateDir), undefined, 'no lock left behind');
  const plain = await openWorkspaceEngine({ ...opts, redisUrl: undefined });
  assert.equal(plain.kind, 'owner');
  await plain.close();
});

test('orchestr8.redisUrl: the engine hands tasks to BullMQ instead of running them in the window', { skip: redisMissingReason() }, async () => {
  const redis = await RedisServer.start({ appendonly: false });
  const opened = await openWorkspaceEngine(options({ redisUrl: redis.url }));
  const queue = new Queue(DEFAULT_QUEUE, { connection: { url: redis.url } });
  try {
    const marker = join(project.root, 'ran-in-window.txt');
    await opened.engine.launch({ task: { name: 'queued', action: { kind: 'run', run: `touch ${marker}` } }, cwd: project.root });
    for (let i = 0; (await queue.getJobCounts('waiting', 'active')).waiting === 0; i++) {
      assert.ok(i < 100, 'the task never reached the queue');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(!existsSync(marker), 'no worker yet, so nothing ran here');
  } finally {
    await queue.close();
    await opened.close();
    await redis.stop();
  }
});

test('results options: the GitHub session token and webhook secret pass through in memory; URLs without a secret are called out', () => {
  const logger = recordingLogger();
  const withAll = extensionResultsOptions('/s', { githubToken: 'gho_x', webhookUrls: ['https://example.com/h'], webhookSecret: 'sec' }, logger, {});
  assert.deepEqual(withAll.github, { token: 'gho_x' });
  assert.deepEqual(withAll.webhooks, { endpoints: ['https://example.com/h'], secret: 'sec' });
  assert.equal(logger.lines.length, 0);
  const bare = extensionResultsOptions('/s', { webhookUrls: ['https://example.com/h'] }, logger, {});
  assert.equal(bare.github, undefined, 'no session: branches only');
  assert.match(logger.lines.join('\n'), /no signing secret.*Set Webhook Signing Secret/);
});

test('results options: GitHub from the environment VS Code started in, as for the CLI; a VS Code session wins over GITHUB_TOKEN', () => {
  const env = { GITHUB_TOKEN: 'ghp_env', GITHUB_API_URL: 'http://127.0.0.1:9999', ORCHESTR8_GITHUB_REPO: 'acme/widgets', ORCHESTR8_GIT_REMOTE: 'upstream' };
  const fromEnv = extensionResultsOptions('/s', { webhookUrls: [] }, recordingLogger(), env);
  assert.deepEqual(fromEnv.github, { token: 'ghp_env', baseUrl: 'http://127.0.0.1:9999', host: '127.0.0.1', repo: 'acme/widgets' });
  assert.equal(fromEnv.remote, 'upstream');
  assert.equal(extensionResultsOptions('/s', { githubToken: 'gho_session', webhookUrls: [] }, recordingLogger(), env).github?.token, 'gho_session');
});
