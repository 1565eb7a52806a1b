import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A pull request as the fake GitHub keeps it. */
export interface FakePull {
  number: number;
  owner: string;
  repo: string;
  head: string;
  base: string;
  title: string;
  body: string;
  draft: boolean;
  state: 'open' | 'closed';
}

/**
 * A local stand-in for GitHub's REST pulls endpoints (list, create, update), good enough for the
 * real @octokit/rest client: real HTTP on 127.0.0.1, token checked, and branches checked
 * against a real (bare) git repository, so a pull request for a branch that was never
 * pushed is refused just as GitHub refuses it.
 */
export class FakeGitHub {
  readonly pulls: FakePull[] = [];
  /** Requests seen, as "METHOD path". */
  readonly requests: string[] = [];
  /**
   * Failure to inject into the next create: `drop` creates the pull request and then
   * destroys the connection (a crash or network loss after GitHub acted), `down`
   * refuses before acting.
   */
  failNextCreate: 'drop' | 'down' | undefined;
  /**
   * Holds the next create without answering, `before` or `after` making the pull request,
   * and calls `onHeld`: the moment a test kills the client process.
   */
  holdNextCreate: { when: 'before' | 'after'; onHeld: () => void } | undefined;
  /** Refuses the next update (PATCH) with a 403, as GitHub does for a token that may not write. */
  failNextUpdate = false;
  private server?: Server;

  constructor(private readonly options: { token: string; repos: Record<string, string> }) {}

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((ok) => this.server!.listen(port, '127.0.0.1', ok));
    return this.url;
  }

  get url(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((ok) => this.server!.close(() => ok()));
    this.server = undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push(`${req.method} ${url.pathname}`);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    const auth = req.headers.authorization ?? '';
    if (auth !== `token ${this.options.token}` && auth !== `bearer ${this.options.token}` && auth !== `Bearer ${this.options.token}`) {
      return send(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    }
    const m = /^\/repos\/([^/]+)\/([^/]+)\/pulls(?:\/(\d+))?$/.exec(url.pathname);
    const bare = m ? this.options.repos[`${m[1]}/${m[2]}`] : undefined;
    if (!m || !bare) return send(404, { message: 'Not Found' });
    const [owner, repo] = [m[1]!, m[2]!];

    if (m[3] !== undefined) {
      // PATCH /repos/{owner}/{repo}/pulls/{number}: title, body, state as GitHub changes them.
      const pull = this.pulls.find((p) => p.owner === owner && p.repo === repo && p.number === Number(m[3]));
      if (!pull || req.method !== 'PATCH') return send(404, { message: 'Not Found' });
      if (this.failNextUpdate) {
        this.failNextUpdate = false;
        return send(403, { message: 'Resource not accessible by personal access token' });
      }
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Partial<FakePull>;
      if (input.title !== undefined) pull.title = input.title;
      if (input.body !== undefined) pull.body = input.body;
      if (input.state === 'open' || input.state === 'closed') pull.state = input.state;
      return send(200, this.json(pull));
    }

    if (req.method === 'GET') {
      const state = url.searchParams.get('state') ?? 'open';
      const head = url.searchParams.get('head');
      const list = this.pulls.filter(
        (p) => p.owner === owner && p.repo === repo && (state === 'all' || p.state === state) && (!head || `${owner}:${p.head}` === head),
      );
      return send(
        200,
        list.map((p) => this.json(p)),
      );
    }
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Partial<FakePull>;
      const hold = this.holdNextCreate;
      if (hold?.when === 'before') {
        this.holdNextCreate = undefined;
        return hold.onHeld();
      }
      if (this.failNextCreate === 'down') {
        this.failNextCreate = undefined;
        req.socket.destroy();
        return;
      }
      const errors: Array<{ resource: string; code: string; field?: string; message?: string }> = [];
      if (!input.head || !branchExists(bare, input.head)) errors.push({ resource: 'PullRequest', code: 'invalid', field: 'head' });
      if (!input.base || !branchExists(bare, input.base)) errors.push({ resource: 'PullRequest', code: 'invalid', field: 'base' });
      if (this.pulls.some((p) => p.owner === owner && p.repo === repo && p.head === input.head && p.state === 'open')) {
        errors.push({ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${owner}:${input.head}.` });
      }
      if (errors.length) return send(422, { message: 'Validation Failed', errors });
      const pull: FakePull = {
        number: this.pulls.length + 1,
        owner,
        repo,
        head: input.head!,
        base: input.base!,
        title: input.title ?? '',
        body: input.body ?? '',
        draft: input.draft === true,
        state: 'open',
      };
      this.pulls.push(pull);
      if (hold?.when === 'after') {
        this.holdNextCreate = undefined;
        return hold.onHeld();
      }
      if (this.failNextCreate === 'drop') {
        this.failNextCreate = undefined;
        req.socket.destroy();
        return;
      }
      return send(201, this.json(pull));
    }
    send(404, { message: 'Not Found' });
  }

  private json(p: FakePull) {
    const html = `https://github.example/${p.owner}/${p.repo}/pull/${p.number}`;
    return {
      id: 1000 + p.number,
      number: p.number,
      state: p.state,
      title: p.title,
      body: p.body,
      draft: p.draft,
      html_url: html,
      url: `${this.url}/repos/${p.owner}/${p.repo}/pulls/${p.number}`,
      head: { ref: p.head, label: `${p.owner}:${p.head}` },
      base: { ref: p.base, label: `${p.owner}:${p.base}` },
    };
  }
}

function branchExists(bare: string, branch: string): boolean {
  try {
    execFileSync('git', ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], { cwd: bare, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
