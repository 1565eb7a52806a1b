import type * as vscode from 'vscode';
import { errorMessage, type Logger } from '../core/util/logger.ts';

/** The core's `Logger` written to a VS Code log output channel (levels and timestamps come from VS Code). */
export function channelLogger(channel: vscode.LogOutputChannel): Logger {
  return {
    debug: (m) => channel.debug(m),
    info: (m) => channel.info(m),
    warn: (m) => channel.warn(m),
    error: (m, e) => channel.error(e === undefined ? m : `${m}: ${errorMessage(e)}`),
  };
}
