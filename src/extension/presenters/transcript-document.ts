import type { TranscriptEntry } from '../../core/agents/transcript.ts';
import type { TaskRecord } from '../../core/model/records.ts';
import { codeFence, escapeMarkdown } from './format.ts';
import { oneLine } from '../../core/util/text-format.ts';

/** Tool input and results past this are cut: the log holds everything, the transcript is for reading. */
const TOOL_TEXT_LIMIT = 2000;

/**
 * An agent task's transcript as markdown: the conversation from its checkpoint, then what the model
 * is streaming right now (the log after the last finished turn), so the open document follows a
 * running task turn by turn and word by word.
 */
export function renderTranscript(task: TaskRecord, entries: readonly TranscriptEntry[], log: string): string {
  const agent = task.action.kind === 'agent' ? task.action.agent : 'agent';
  const live = task.state === 'running' || task.state === 'queued' || task.state === 'pending';
  const lines = [
    `# ${escapeMarkdown(task.name || task.key)} — transcript`,
    '',
    `Task \`${task.id}\` · ${task.state}${task.attempt > 1 ? ` · attempt ${task.attempt}` : ''}${live ? ' · updates live' : ''}`,
  ];
  if (task.action.kind !== 'agent') return [...lines, '', '_Only agent tasks have a transcript._', ''].join('\n');
  if (!entries.length) lines.push('', live ? '_Nothing yet: the first turn is on its way._' : '_No conversation was saved for this task._');
  for (const entry of entries) {
    switch (entry.kind) {
      case 'prompt':
        lines.push('', '**You**', '', quote(entry.text));
        break;
      case 'answer':
        lines.push('', `**${escapeMarkdown(agent)}**`, '', entry.text);
        break;
      case 'tool-call':
        lines.push('', `→ \`${entry.tool}\` ${codeSpan(oneLine(entry.input, 300))}`);
        break;
      case 'tool-result':
        lines.push('', `← \`${entry.tool}\`${entry.error ? ' **failed**' : ''}`, '', codeFence(cut(entry.text), 'text'));
        break;
    }
  }
  const streaming = live ? currentTurn(log) : '';
  if (streaming) lines.push('', '---', '', `**${escapeMarkdown(agent)}** _(this turn, as it streams)_`, '', streaming);
  return `${lines.join('\n')}\n`;
}

/** The log after its last finished-turn line (`[turn N: …]`): the turn being streamed now. */
function currentTurn(log: string): string {
  const attempt = log.lastIndexOf('--- attempt');
  const fromAttempt = attempt >= 0 ? log.slice(log.indexOf('\n', attempt) + 1) : log;
  const turns = [...fromAttempt.matchAll(/^\[turn \d+: .*\]$/gm)];
  const tail = turns.length ? fromAttempt.slice(turns.at(-1)!.index! + turns.at(-1)![0].length) : fromAttempt;
  return tail.replace(/^\[agent [^\]]*\]$/gm, '').trim();
}

function quote(text: string): string {
  return text
    .split('\n')
    .map((l) => `> ${l}`)
    .join('\n');
}

function codeSpan(text: string): string {
  const ticks = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length)) + 1;
  const fence = '`'.repeat(ticks);
  return `${fence} ${text} ${fence}`;
}

function cut(text: string): string {
  return text.length > TOOL_TEXT_LIMIT ? `${text.slice(0, TOOL_TEXT_LIMIT)}\n… (${text.length - TOOL_TEXT_LIMIT} more characters in the log)` : text;
}
