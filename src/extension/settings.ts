import * as vscode from 'vscode';
import { toNotificationLevel, type NotificationLevel } from './presenters/notification-policy.ts';

/** Typed reads of `contributes.configuration`; read on use so changes apply without a reload where they can. */
export interface Settings {
  concurrency: number;
  defaultModel: string;
  notifications: NotificationLevel;
  historyRetentionDays: number;
}

export function readSettings(scope?: vscode.ConfigurationScope): Settings {
  const c = vscode.workspace.getConfiguration('orchestr8', scope);
  const positive = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : fallback);
  return {
    concurrency: Math.max(1, positive(c.get('concurrency'), 4)),
    defaultModel: c.get<string>('defaultModel')?.trim() || 'claude-sonnet-5-5',
    notifications: toNotificationLevel(c.get('notifications')),
    historyRetentionDays: positive(c.get('historyRetentionDays'), 30),
  };
}
