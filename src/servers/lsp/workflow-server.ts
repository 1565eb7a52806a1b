import fs from 'node:fs';
import path from 'node:path';
import { TextDocuments, TextDocumentSyncKind, type Connection, type InitializeResult } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { URI } from 'vscode-uri';
import type { Disposable } from '../../core/util/disposable.ts';
import { DisposableStore } from '../../core/util/disposable.ts';
import type { AgentDirectory, AgentSummary } from './agent-directory.ts';
import { workflowCompletions } from './workflow-completion.ts';
import { workflowDiagnostics } from './workflow-diagnostics.ts';
import { workflowHover } from './workflow-hover.ts';

/** The language id the extension gives workflow files (`**∕.orchestr8/workflows/*.{yml,yaml}`). */
export const WORKFLOW_LANGUAGE_ID = 'orchestr8-workflow';

export interface WorkflowServerOptions {
  agents: AgentDirectory;
  /** How long an agent list is reused before the folders are read again (default 3 s); file-watch events drop it at once. */
  agentCacheMs?: number;
  /** Quiet time after an edit before the file is checked again (default 150 ms): typing in a big file checks it once, not per key. */
  debounceMs?: number;
}

/**
 * The workflow language server on a connection: diagnostics from the core parser on
 * every change, completions and hovers. Free of `vscode`, so it runs in any editor
 * that speaks LSP. Call `connection.listen()` after this.
 */
export function startWorkflowServer(connection: Connection, options: WorkflowServerOptions): Disposable {
  const store = new DisposableStore();
  const documents = new TextDocuments(TextDocument);
  const agentCache = new Map<string, { at: number; list: Promise<AgentSummary[]> }>();
  const cacheMs = options.agentCacheMs ?? 3000;
  let workspaceRoots: string[] = [];

  const rootOf = (uri: string): string => {
    const file = URI.parse(uri).fsPath;
    const marker = `${path.sep}.orchestr8${path.sep}`;
    const at = file.lastIndexOf(marker);
    if (at >= 0) return file.slice(0, at);
    for (let dir = path.dirname(file); path.dirname(dir) !== dir; dir = path.dirname(dir)) {
      if (fs.existsSync(path.join(dir, '.orchestr8')) || fs.existsSync(path.join(dir, '.git'))) return dir;
    }
    return workspaceRoots.find((r) => file.startsWith(r + path.sep)) ?? path.dirname(file);
  };

  const agentsFor = (uri: string): Promise<AgentSummary[]> => {
    const root = rootOf(uri);
    const cached = agentCache.get(root);
    if (cached && Date.now() - cached.at < cacheMs) return cached.list;
    const list = options.agents.list(root).catch((error: unknown) => {
      connection.console.error(`could not read the agents of ${root}: ${(error as Error).message}`);
      return [];
    });
    agentCache.set(root, { at: Date.now(), list });
    return list;
  };

  const validate = async (doc: TextDocument) => {
    const agents = await agentsFor(doc.uri);
    // A newer edit (or a close) while the agents were read: its own validation reports.
    if (documents.get(doc.uri)?.version !== doc.version) return;
    const diagnostics = workflowDiagnostics(doc.getText(), URI.parse(doc.uri).fsPath, agents);
    await connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics });
  };
  const pending = new Map<string, ReturnType<typeof setTimeout>>();
  const report = (doc: TextDocument) => {
    clearTimeout(pending.get(doc.uri));
    pending.set(
      doc.uri,
      setTimeout(() => {
        pending.delete(doc.uri);
        const current = documents.get(doc.uri);
        if (current) validate(current).catch((error: unknown) => connection.console.error(`validation of ${doc.uri} failed: ${(error as Error).stack}`));
      }, options.debounceMs ?? 150),
    );
  };
  store.add({
    dispose: () => {
      for (const timer of pending.values()) clearTimeout(timer);
    },
  });

  store.add(
    connection.onInitialize((params): InitializeResult => {
      workspaceRoots = (params.workspaceFolders ?? []).map((f) => URI.parse(f.uri).fsPath);
      return {
        capabilities: {
          textDocumentSync: TextDocumentSyncKind.Incremental,
          completionProvider: { triggerCharacters: ['{', '.', ' ', '-', '[', ','] },
          hoverProvider: true,
        },
        serverInfo: { name: 'orchestr8-workflow' },
      };
    }),
  );
  store.add(documents.onDidChangeContent((e) => report(e.document)));
  store.add(
    documents.onDidClose((e) => {
      clearTimeout(pending.get(e.document.uri));
      pending.delete(e.document.uri);
      void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    }),
  );
  // Agent files changed: forget the lists and check open workflows again.
  store.add(
    connection.onDidChangeWatchedFiles(() => {
      agentCache.clear();
      documents.all().forEach(report);
    }),
  );
  store.add(
    connection.onCompletion(async ({ textDocument, position }) => {
      const doc = documents.get(textDocument.uri);
      if (!doc) return [];
      return workflowCompletions(doc.getText(), URI.parse(doc.uri).fsPath, position, await agentsFor(doc.uri));
    }),
  );
  store.add(
    connection.onHover(async ({ textDocument, position }) => {
      const doc = documents.get(textDocument.uri);
      if (!doc) return null;
      return workflowHover(doc.getText(), position, await agentsFor(doc.uri)) ?? null;
    }),
  );
  store.add(documents.listen(connection));
  return store;
}
