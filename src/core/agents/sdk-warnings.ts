/**
 * Runs `fn` and returns what it wrote with `console.warn`. The SDK reports deprecated
 * models only that way (synchronously, inside `messages.create`/`stream`), and the
 * user would never see the console of a background task, so the runner captures the
 * text and sends it to the task log and the logger instead. Safe with concurrent
 * tasks because the capture window is synchronous.
 *
 * The global `console` itself is swapped, not its `warn`: VS Code's extension host
 * defines `console.warn` with a setter that ignores assignments (it forwards the
 * console to the window), so replacing the method there silently captures nothing.
 */
export function captureConsoleWarnings<T>(fn: () => T): { value: T; warnings: string[] } {
  const warnings: string[] = [];
  const original = globalThis.console;
  const capturing: Console = Object.create(original, {
    warn: {
      value: (...args: unknown[]) => {
        warnings.push(args.map(String).join(' '));
      },
    },
  });
  globalThis.console = capturing;
  try {
    return { value: fn(), warnings };
  } finally {
    globalThis.console = original;
  }
}
