/**
 * Runs `fn` and returns what it wrote with `console.warn`. The SDK reports deprecated
 * models only that way (synchronously, inside `messages.create`/`stream`), and the
 * user would never see the console of a background task, so the runner captures the
 * text and sends it to the task log and the logger instead. Safe with concurrent
 * tasks because the capture window is synchronous.
 */
export function captureConsoleWarnings<T>(fn: () => T): { value: T; warnings: string[] } {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => {
    warnings.push(args.map(String).join(' '));
  };
  try {
    return { value: fn(), warnings };
  } finally {
    console.warn = original;
  }
}
