import { delimiter } from 'node:path';
import { ShellRunner } from '../runners/shell-runner.ts';
import type { SandboxPolicy } from './sandbox-policy.ts';
import { sharedShellSandbox, type ShellSandbox } from './shell-sandbox.ts';

/** The user's sandbox settings: the extension's `orchestr8.sandbox.*`, the CLI's `ORCHESTR8_SANDBOX_*`. */
export interface SandboxSettings {
  /** `run:` tasks without a `sandbox:` of their own run in the sandbox. */
  runTasks: boolean;
  /** Hosts sandboxed commands may reach; unset: `DEFAULT_ALLOWED_DOMAINS`. */
  allowedDomains?: string[];
  /** More folders sandboxed commands may write to. */
  allowWrite?: string[];
}

/**
 * `ORCHESTR8_SANDBOX_RUN_TASKS=1`, `ORCHESTR8_SANDBOX_ALLOWED_DOMAINS=a.example,*.b.example`
 * (empty: no network), `ORCHESTR8_SANDBOX_ALLOW_WRITE=/path/one:/path/two`.
 */
export function sandboxSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): SandboxSettings {
  const list = (value: string | undefined, separator: string) =>
    value
      ?.split(separator)
      .map((s) => s.trim())
      .filter(Boolean);
  const domains = list(env['ORCHESTR8_SANDBOX_ALLOWED_DOMAINS'], ',');
  const writes = list(env['ORCHESTR8_SANDBOX_ALLOW_WRITE'], delimiter);
  return {
    runTasks: /^(1|true|yes|on)$/i.test(env['ORCHESTR8_SANDBOX_RUN_TASKS'] ?? ''),
    ...(domains ? { allowedDomains: domains } : {}),
    ...(writes ? { allowWrite: writes } : {}),
  };
}

/** The process's sandbox with these settings, and a shell runner that uses it. */
export function sandboxedShell(settings: SandboxSettings): { sandbox: ShellSandbox; shellRunner: ShellRunner } {
  const policy: Partial<SandboxPolicy> = {
    ...(settings.allowedDomains ? { allowedDomains: settings.allowedDomains } : {}),
    ...(settings.allowWrite ? { allowWrite: settings.allowWrite } : {}),
  };
  const sandbox = sharedShellSandbox(policy);
  return { sandbox, shellRunner: new ShellRunner({ sandbox, sandboxRunTasks: settings.runTasks }) };
}
