import * as vscode from 'vscode';
import { DEFAULT_AGENT_MODEL } from '../core/agents/agent-model.ts';
import type { SandboxSettings } from '../core/sandbox/sandbox-settings.ts';
import type { Budget } from '../core/model/input-request.ts';
import { toNotificationLevel, type NotificationLevel } from './presenters/notification-policy.ts';

/** Typed reads of `contributes.configuration`; read on use so changes apply without a reload where they can. */
export interface Settings {
  concurrency: number;
  defaultModel: string;
  notifications: NotificationLevel;
  historyRetentionDays: number;
  /** `orchestr8.anthropicBaseUrl`, from user settings only (a workspace can't send the key elsewhere); empty: the SDK's default. */
  anthropicBaseUrl: string;
  /** `orchestr8.agentRuntime`: `orchestr8` (our loop on the Messages API) or `claude-code`, for agent tasks that name none. */
  agentRuntime: string;
  /** `orchestr8.claudeCodePath`, from user settings only (a workspace must not pick the program that runs); empty: found by itself. */
  claudeCodePath: string;
  /** `orchestr8.redisUrl`: BullMQ mode when set. */
  redisUrl: string;
  /** `orchestr8.webhooks.urls`: endpoints sent every run's events (signed with the secret from SecretStorage). */
  webhookUrls: string[];
  /** `orchestr8.sandbox.*`; what widens the sandbox (hosts, writable folders) from user settings only. */
  sandbox: SandboxSettings;
  /** `orchestr8.permissions.allow` (user settings only: a cloned project must not allow commands) and `.deny`. */
  permissions: { allow: string[]; deny: string[] };
  /** `orchestr8.permissionTimeout` in ms; 0: a request waits until answered. */
  permissionTimeoutMs: number;
  /** `orchestr8.budget.usd` / `.tokens`: the default budget of agent tasks; undefined: none. */
  budget: Budget | undefined;
  /** `orchestr8.git.push`: push run branches even when no pull request will be opened. */
  gitPush: boolean;
  /** `orchestr8.git.branchRetentionDays`: unmerged branches of finished runs older than this are offered for removal (0: kept). */
  branchRetentionDays: number;
}

export function readSettings(scope?: vscode.ConfigurationScope): Settings {
  const c = vscode.workspace.getConfiguration('orchestr8', scope);
  const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
  const positive = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : fallback);
  return {
    concurrency: Math.max(1, positive(c.get('concurrency'), 4)),
    defaultModel: c.get<string>('defaultModel')?.trim() || DEFAULT_AGENT_MODEL,
    notifications: toNotificationLevel(c.get('notifications')),
    historyRetentionDays: positive(c.get('historyRetentionDays'), 30),
    // User settings only: a workspace's own settings must not send the user's API key elsewhere.
    anthropicBaseUrl: text(c.inspect('anthropicBaseUrl')?.globalValue),
    agentRuntime: text(c.get('agentRuntime')) || 'orchestr8',
    claudeCodePath: text(c.inspect('claudeCodePath')?.globalValue),
    redisUrl: text(c.get('redisUrl')),
    webhookUrls: (Array.isArray(c.get('webhooks.urls')) ? c.get<unknown[]>('webhooks.urls')! : []).map(text).filter(Boolean),
    sandbox: sandboxSettings(c),
    permissions: {
      allow: strings(c.inspect('permissions.allow')?.globalValue),
      deny: strings(c.get('permissions.deny')),
    },
    permissionTimeoutMs: positive(c.get('permissionTimeout'), 0) * 1000,
    budget: budgetOf(c.get('budget.usd'), c.get('budget.tokens')),
    gitPush: c.get<boolean>('git.push') === true,
    branchRetentionDays: positive(c.get('git.branchRetentionDays'), 0),
  };
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.trim() !== '').map((v) => v.trim()) : [];
}

function budgetOf(usd: unknown, tokens: unknown): Budget | undefined {
  const budget: Budget = {};
  if (typeof usd === 'number' && usd > 0) budget.usd = usd;
  if (typeof tokens === 'number' && tokens > 0) budget.tokens = Math.floor(tokens);
  return budget.usd !== undefined || budget.tokens !== undefined ? budget : undefined;
}

function sandboxSettings(c: vscode.WorkspaceConfiguration): SandboxSettings {
  // A cloned project may ask for more confinement, never for less: hosts and folders come from user settings.
  const userList = (key: string) => {
    const value = c.inspect(key)?.globalValue;
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.trim() !== '').map((v) => v.trim()) : undefined;
  };
  const allowedDomains = userList('sandbox.allowedDomains');
  const allowWrite = userList('sandbox.allowWrite');
  return {
    runTasks: c.get<boolean>('sandbox.runTasks') === true,
    ...(allowedDomains ? { allowedDomains } : {}),
    ...(allowWrite ? { allowWrite } : {}),
  };
}
