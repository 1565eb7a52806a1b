import { join } from 'node:path';
import type { Engine } from '../engine/engine.ts';
import { GitRunHooks } from '../git/git-run-hooks.ts';
import { PullRequestPublisher } from '../github/pull-requests.ts';
import type { WebhookEndpoint } from '../notifications/webhook-endpoints.ts';
import { WebhookDispatcher } from '../notifications/webhooks.ts';
import type { Clock } from '../util/clock.ts';
import type { Disposable } from '../util/disposable.ts';
import type { Logger } from '../util/logger.ts';

export interface ResultsOptions {
  stateDir: string;
  /** Pull requests need a token: GITHUB_TOKEN (CLI) or VS Code's GitHub session (extension). None: branches only. */
  github?: { token?: string; baseUrl?: string; repo?: string; host?: string };
  /** Remote to push to (default `origin`). */
  remote?: string;
  /** Push branches even when no pull request will be opened (ORCHESTR8_GIT_PUSH, `orchestr8.git.push`). */
  push?: boolean;
  /** Why there is no token, as the front end puts it (the extension: no GitHub session). */
  noTokenReason?: string;
  /** Global webhook endpoints and the signing secret (ORCHESTR8_WEBHOOK_SECRET / settings). */
  webhooks?: { endpoints?: Array<string | WebhookEndpoint>; secret?: string; maxAttempts?: number; backoffMs?: number; maxDelayMs?: number };
  logger?: Logger;
  clock?: Clock;
}

/** What an owner wires: `hooks` go into `Engine.open` (each call brings the engine), `startWebhooks` once it is open. */
export interface Results {
  readonly hooks: GitRunHooks;
  /**
   * Turns the open engine's events into signed deliveries and sends what an earlier process left
   * in the outbox. Close it before the engine, so deliveries in flight are recorded.
   */
  startWebhooks(engine: Engine): ResultsWebhooks;
}

/** The webhooks of an open engine. */
export interface ResultsWebhooks extends Disposable {
  readonly webhooks: WebhookDispatcher;
  /** Stops listening and lets deliveries in flight be recorded. */
  close(): Promise<void>;
}

/**
 * Results reaching the world: a worktree and branch per run, commits per task, push and
 * pull request, and signed webhooks (including `pr.opened`).
 */
export function setupResults(options: ResultsOptions): Results {
  let dispatcher: WebhookDispatcher | undefined;
  // A run a dead owner left may open its pull request while the engine opens, before its webhooks start.
  const early: Array<Parameters<WebhookDispatcher['pullRequestOpened']>> = [];
  const token = options.github?.token;
  const hooks = new GitRunHooks({
    worktreeRoot: join(options.stateDir, 'worktrees'),
    ...(options.remote ? { remote: options.remote } : {}),
    ...(options.push ? { push: true } : {}),
    ...(options.noTokenReason ? { noPublisherReason: options.noTokenReason } : {}),
    ...(token ? { publisher: new PullRequestPublisher({ token, ...(options.github?.baseUrl ? { baseUrl: options.github.baseUrl } : {}) }) } : {}),
    ...(options.github?.repo ? { repo: options.github.repo } : {}),
    ...(options.github?.host ? { githubHost: options.github.host } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    onPullRequest: (run, pr) => (dispatcher ? dispatcher.pullRequestOpened(run, pr) : early.push([run, pr])),
  });
  return {
    hooks,
    startWebhooks(engine) {
      const w = options.webhooks ?? {};
      const d = new WebhookDispatcher({
        outbox: engine.webhookOutbox(),
        runOf: async (id) => (await engine.status(id)).run,
        history: engine,
        endpoints: (w.endpoints ?? []).map((e) => (typeof e === 'string' ? { url: e } : e)),
        ...(w.secret ? { secret: w.secret } : {}),
        ...(w.maxAttempts ? { maxAttempts: w.maxAttempts } : {}),
        ...(w.backoffMs ? { backoffMs: w.backoffMs } : {}),
        ...(w.maxDelayMs ? { maxDelayMs: w.maxDelayMs } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
        ...(options.clock ? { clock: options.clock } : {}),
      });
      dispatcher = d;
      for (const [run, pr] of early.splice(0)) d.pullRequestOpened(run, pr);
      const sub = d.listen(engine);
      d.start();
      return {
        webhooks: d,
        close: async () => {
          sub.dispose();
          await d.close();
        },
        dispose: () => {
          sub.dispose();
          d.dispose();
        },
      };
    },
  };
}

/**
 * Options for the CLI from its environment: ORCHESTR8_GITHUB_TOKEN or else GITHUB_TOKEN (the
 * former for a token meant for Orchestr8 alone, or where GITHUB_TOKEN is taken: code-server
 * consumes it for its own GitHub sign-in and removes it from its environment), GITHUB_API_URL (GitHub
 * Enterprise), ORCHESTR8_GITHUB_REPO (`owner/name` when the remote is not a GitHub URL),
 * ORCHESTR8_GIT_REMOTE, ORCHESTR8_GIT_PUSH (`1`: push branches without a pull request too),
 * ORCHESTR8_WEBHOOK_URLS (comma-separated) and ORCHESTR8_WEBHOOK_SECRET.
 */
export function resultsOptionsFromEnv(stateDir: string, env: Record<string, string | undefined> = process.env, logger?: Logger): ResultsOptions {
  const urls = (env['ORCHESTR8_WEBHOOK_URLS'] ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  const apiUrl = env['GITHUB_API_URL'];
  const token = env['ORCHESTR8_GITHUB_TOKEN'] || env['GITHUB_TOKEN'];
  return {
    stateDir,
    github: {
      ...(token ? { token } : {}),
      ...(apiUrl ? { baseUrl: apiUrl, host: new URL(apiUrl).hostname.replace(/^api\./, '') } : {}),
      ...(env['ORCHESTR8_GITHUB_REPO'] ? { repo: env['ORCHESTR8_GITHUB_REPO'] } : {}),
    },
    ...(env['ORCHESTR8_GIT_REMOTE'] ? { remote: env['ORCHESTR8_GIT_REMOTE'] } : {}),
    ...(/^(1|true|yes|on)$/i.test(env['ORCHESTR8_GIT_PUSH'] ?? '') ? { push: true } : {}),
    webhooks: { endpoints: urls, ...(env['ORCHESTR8_WEBHOOK_SECRET'] ? { secret: env['ORCHESTR8_WEBHOOK_SECRET'] } : {}) },
    ...(logger ? { logger } : {}),
  };
}
