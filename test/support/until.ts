/**
 * Resolves with the first truthy answer of `check`, asked every 10 ms; rejects naming `what`
 * (and `context()`, say a child's stderr) once `timeoutMs` has passed, so a test that waits for
 * something that never comes fails with a reason instead of hanging until the runner's timeout.
 */
export async function until<T>(what: string, check: () => T | Promise<T>, timeoutMs = 15_000, context: () => string = () => ''): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) {
      const more = context();
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${more ? `\n${more}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * For what must NOT happen when nothing positive follows that a test could wait for instead:
 * checks `holds` for `ms` and rejects, naming `what`, at the first moment it no longer holds.
 * A loaded machine can only make it see less, never fail a correct program.
 */
export async function stillHolds(what: string, holds: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  do {
    if (!(await holds())) throw new Error(`no longer true: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  } while (Date.now() < end);
  if (!(await holds())) throw new Error(`no longer true: ${what}`);
}
