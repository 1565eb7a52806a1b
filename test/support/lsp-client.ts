import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import {
  CompletionRequest,
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  HoverRequest,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type CompletionItem,
  type CompletionList,
  type Hover,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver/node';

const REPO = path.resolve(import.meta.dirname, '../..');
const SERVER = path.join(REPO, 'src/servers/lsp/workflow-server-main.ts');

/**
 * The client half of LSP over a real child process speaking JSON-RPC on stdio, the
 * way an editor runs the workflow server. Keeps every diagnostics notification so
 * tests can wait for the one of a given document version.
 */
export class LspTestClient {
  private readonly published: PublishDiagnosticsParams[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly connection: ProtocolConnection,
  ) {
    connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
      this.published.push(params);
      for (const w of this.waiters) w();
    });
  }

  static async start(root: string): Promise<LspTestClient> {
    // The server learns the project from the workspace folders; its cwd is this repo so `--import tsx` resolves.
    const child = spawn(process.execPath, ['--import', 'tsx', SERVER], { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] });
    const died = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`the language server exited (${code}) before answering initialize`))),
    );
    const connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    const client = new LspTestClient(child, connection);
    connection.listen();
    const initialized = connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: null,
      capabilities: {},
      workspaceFolders: [{ uri: `file://${root}`, name: 'project' }],
    });
    await Promise.race([initialized, died]);
    died.catch(() => {});
    await connection.sendNotification(InitializedNotification.type, {});
    return client;
  }

  async open(uri: string, text: string, version = 1): Promise<void> {
    await this.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'orchestr8-workflow', version, text } });
  }

  async replace(uri: string, text: string, version: number): Promise<void> {
    await this.connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: [{ text }] });
  }

  /** The diagnostics published for `uri` at `version`, waiting up to `timeoutMs` for them. */
  diagnostics(uri: string, version: number, timeoutMs = 5000): Promise<PublishDiagnosticsParams> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.published.find((p) => p.uri === uri && p.version === version);
        if (!found) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no diagnostics for ${uri} v${version} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Versions of `uri` that diagnostics were published for, in order. */
  publishedVersions(uri: string): (number | undefined)[] {
    return this.published.filter((p) => p.uri === uri).map((p) => p.version);
  }

  async completions(uri: string, line: number, character: number): Promise<CompletionItem[]> {
    const result: CompletionItem[] | CompletionList | null = await this.connection.sendRequest(CompletionRequest.type, {
      textDocument: { uri },
      position: { line, character },
    });
    return Array.isArray(result) ? result : (result?.items ?? []);
  }

  hover(uri: string, line: number, character: number): Promise<Hover | null> {
    return this.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line, character } });
  }

  /** Shutdown + exit, as an editor does; resolves with the server's exit code. */
  async stop(): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)));
    await this.connection.sendRequest(ShutdownRequest.type);
    await this.connection.sendNotification(ExitNotification.type);
    const code = await exited;
    this.connection.dispose();
    return code;
  }
}
