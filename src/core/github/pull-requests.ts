import { Octokit } from '@octokit/rest';

/** A repository on GitHub (or GitHub Enterprise). */
export interface GitHubRepo {
  owner: string;
  repo: string;
}

export interface PullRequestRequest extends GitHubRepo {
  /** Branch with the changes (in the same repository). */
  head: string;
  /** Branch the changes should land on. */
  base: string;
  title: string;
  body: string;
  draft: boolean;
}

export interface PullRequestInfo {
  number: number;
  url: string;
  draft: boolean;
  /** False when an open pull request for the head branch already existed (a retry after a crash). */
  created: boolean;
}

export interface GitHubOptions {
  /** Token from GITHUB_TOKEN (CLI) or VS Code's GitHub authentication session (extension). Never stored. */
  token: string;
  /** REST root; `https://ghe.example.com/api/v3` for GitHub Enterprise. Defaults to api.github.com. */
  baseUrl?: string;
  /** Abort requests that take longer than this. */
  timeoutMs?: number;
}

/** Opens pull requests; the one place that talks to GitHub. */
export class PullRequestPublisher {
  private readonly octokit: Octokit;

  constructor(options: GitHubOptions) {
    this.octokit = new Octokit({
      auth: options.token,
      userAgent: 'orchestr8',
      ...(options.baseUrl ? { baseUrl: options.baseUrl.replace(/\/+$/, '') } : {}),
      request: { timeout: options.timeoutMs ?? 30_000 },
      log: { debug() {}, info() {}, warn() {}, error() {} },
    });
  }

  /** The open pull request whose head is `head`, if any. */
  async findOpen(target: GitHubRepo, head: string): Promise<PullRequestInfo | undefined> {
    const { data } = await this.octokit.pulls.list({
      owner: target.owner,
      repo: target.repo,
      head: `${target.owner}:${head}`,
      state: 'open',
      per_page: 10,
    });
    // Filter again: a server that ignores `head` must not make us adopt someone else's pull request.
    const pr = data.find((p) => p.head.ref === head);
    return pr ? { number: pr.number, url: pr.html_url, draft: pr.draft ?? false, created: false } : undefined;
  }

  /**
   * Opens a pull request for `head`, or returns the open one that already exists. Safe to
   * call again after a crash anywhere in between: it never opens a second pull request.
   */
  async ensure(request: PullRequestRequest): Promise<PullRequestInfo> {
    const existing = await this.findOpen(request, request.head);
    if (existing) return existing;
    try {
      const { data } = await this.octokit.pulls.create({
        owner: request.owner,
        repo: request.repo,
        head: request.head,
        base: request.base,
        title: request.title,
        body: request.body,
        draft: request.draft,
      });
      return { number: data.number, url: data.html_url, draft: data.draft ?? request.draft, created: true };
    } catch (error) {
      // Another process (or our own request whose response was lost) won the race.
      if (isStatus(error, 422)) {
        const raced = await this.findOpen(request, request.head);
        if (raced) return raced;
      }
      throw error;
    }
  }

  /** Rewrites the description of pull request `number` (a run finished again after a Continue…: new tasks' results and totals). */
  async updateBody(target: GitHubRepo, number: number, body: string): Promise<void> {
    await this.octokit.pulls.update({ owner: target.owner, repo: target.repo, pull_number: number, body });
  }
}

function isStatus(error: unknown, status: number): boolean {
  return typeof error === 'object' && error !== null && (error as { status?: unknown }).status === status;
}

/** owner/repo from a GitHub remote URL (https, ssh or scp-like); undefined for anything else. */
export function parseGitHubRemote(url: string, host = 'github.com'): GitHubRepo | undefined {
  const h = host.replace(/[.]/g, '\\.');
  const m =
    new RegExp(`^(?:https?|ssh|git)://(?:[^@/]+@)?${h}(?::\\d+)?/([^/]+)/([^/]+?)(?:\\.git)?/?$`).exec(url) ??
    new RegExp(`^(?:[^@/]+@)?${h}:([^/]+)/([^/]+?)(?:\\.git)?/?$`).exec(url);
  return m ? { owner: m[1]!, repo: m[2]! } : undefined;
}

/** "owner/name" as written in a workflow option or setting. */
export function parseRepoSlug(slug: string): GitHubRepo | undefined {
  const m = /^([\w.-]+)\/([\w.-]+)$/.exec(slug.trim());
  return m ? { owner: m[1]!, repo: m[2]! } : undefined;
}
