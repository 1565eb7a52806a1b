import * as vscode from 'vscode';
import type { EngineEvent } from '../core/model/events.ts';
import type { TaskResult } from '../core/model/records.ts';
import type { Logger } from '../core/util/logger.ts';
import type { EngineHost } from './engine-host.ts';
import { Debouncer } from './presenters/debouncer.ts';
import { DOCUMENT_SCHEME, documentUri, parseDocumentUri, type DocumentRef } from './presenters/document-uris.ts';
import { renderLog, renderResult, renderRunSummary } from './presenters/documents.ts';
import { renderTranscript } from './presenters/transcript-document.ts';

/**
 * Results, logs, agent transcripts and run summaries as read-only markdown documents under
 * `orchestr8:`. Open documents follow the engine: a running task's log and transcript grow as its
 * output arrives (each `task.progress` event refreshes them, at most 4 times a second).
 */
export class OrchestrDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly refresh: Debouncer<{ runId: string; taskId?: string }>;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly host: EngineHost,
    private readonly logger: Logger,
  ) {
    // Live logs refresh at most 4 times a second however chatty the task is.
    this.refresh = new Debouncer(250, (batch) => this.refreshOpen(batch));
    this.disposables.push(
      this.changed,
      this.refresh,
      vscode.workspace.registerTextDocumentContentProvider(DOCUMENT_SCHEME, this),
      host.onEvent((e) => this.onEvent(e)),
    );
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const ref = parseDocumentUri(uri.toString());
    if (!ref) return `# Not an Orchestr8 document\n\n\`${uri.toString()}\` names no run or task.\n`;
    try {
      const engine = await this.host.readable();
      const now = Date.now();
      if (ref.kind === 'run') {
        const { run, tasks } = await engine.status(ref.runId);
        const results = new Map<string, TaskResult>();
        for (const t of tasks) {
          if (t.state !== 'completed') continue;
          const result = await engine.result(t.id);
          if (result) results.set(t.id, result);
        }
        const usage = tasks.some((t) => t.action.kind === 'agent') ? await engine.usage(run.id) : undefined;
        return renderRunSummary(run, tasks, results, now, usage);
      }
      const task = await engine.task(ref.taskId);
      if (ref.kind === 'log') return renderLog(task, await engine.log(task.id), now);
      if (ref.kind === 'transcript') return renderTranscript(task, await engine.transcript(task.id), await engine.log(task.id));
      const { run } = await engine.status(task.runId);
      const usage = task.action.kind === 'agent' ? await engine.usage(task.id) : undefined;
      return renderResult(run, task, await engine.result(task.id), usage, now);
    } catch (error) {
      this.logger.warn(`could not render ${uri.toString()}: ${String(error)}`);
      return `# Not available\n\n${error instanceof Error ? error.message : String(error)}\n`;
    }
  }

  /** Opens a document rendered as markdown (falls back to the text when there is no markdown preview). */
  async open(ref: DocumentRef, title: string): Promise<void> {
    const uri = vscode.Uri.parse(documentUri(ref, title).toString());
    try {
      await vscode.commands.executeCommand('markdown.showPreview', uri);
    } catch (error) {
      this.logger.warn(`markdown preview unavailable (${String(error)}); opening the text`);
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc, { preview: true });
    }
  }

  private onEvent(event: EngineEvent): void {
    if (event.type === 'task.progress') this.refresh.push({ runId: event.runId, taskId: event.taskId });
    else if ('task' in event) this.refresh.push({ runId: event.task.runId, taskId: event.task.id });
    else if ('run' in event) this.refresh.push({ runId: event.run.id });
  }

  private refreshOpen(batch: Array<{ runId: string; taskId?: string }>): void {
    const runs = new Set(batch.map((b) => b.runId));
    const tasks = new Set(batch.flatMap((b) => (b.taskId ? [b.taskId] : [])));
    for (const doc of vscode.workspace.textDocuments) {
      if (doc.uri.scheme !== DOCUMENT_SCHEME) continue;
      const ref = parseDocumentUri(doc.uri.toString());
      if (!ref) continue;
      const hit = ref.kind === 'run' ? runs.has(ref.runId) : tasks.has(ref.taskId);
      if (hit) this.changed.fire(doc.uri);
    }
  }

  dispose(): void {
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }
}
