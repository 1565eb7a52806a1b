/** The part of a task the dependency graph needs; `TaskDef` fits. */
export interface GraphNode {
  id: string;
  needs: readonly string[];
}

/**
 * One dependency cycle, as task ids with the first repeated at the end
 * (`['a', 'b', 'a']` for a needs b, b needs a), or undefined for a DAG.
 * Needs naming unknown tasks are ignored here; the validator reports them.
 */
export function findCycle(tasks: readonly GraphNode[]): string[] | undefined {
  const needs = new Map(tasks.map((t) => [t.id, t.needs]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];

  const visit = (id: string): string[] | undefined => {
    state.set(id, 'visiting');
    stack.push(id);
    for (const need of needs.get(id) ?? []) {
      if (!needs.has(need)) continue;
      const s = state.get(need);
      if (s === 'visiting') return [...stack.slice(stack.indexOf(need)), need];
      if (s === undefined) {
        const cycle = visit(need);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };

  for (const t of tasks) {
    if (state.has(t.id)) continue;
    const cycle = visit(t.id);
    if (cycle) return cycle;
  }
  return undefined;
}

/**
 * Task ids so that every task comes after its needs; among tasks ready at the
 * same time, file order is kept. Throws on a cycle.
 */
export function topologicalOrder(tasks: readonly GraphNode[]): string[] {
  const cycle = findCycle(tasks);
  if (cycle) throw new Error(`dependency cycle: ${cycle.join(' -> ')}`);
  const ids = new Set(tasks.map((t) => t.id));
  const done = new Set<string>();
  const order: string[] = [];
  // Quadratic, but workflows are small and this keeps the order easy to predict.
  while (order.length < tasks.length) {
    const next = tasks.find((t) => !done.has(t.id) && t.needs.every((n) => done.has(n) || !ids.has(n)));
    if (!next) throw new Error('dependency cycle');
    done.add(next.id);
    order.push(next.id);
  }
  return order;
}

/** Every task `id` depends on, directly or through its needs (not including itself unless in a cycle). */
export function transitiveNeeds(tasks: readonly GraphNode[], id: string): Set<string> {
  const needs = new Map(tasks.map((t) => [t.id, t.needs]));
  const seen = new Set<string>();
  const todo = [...(needs.get(id) ?? [])];
  while (todo.length > 0) {
    const n = todo.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    todo.push(...(needs.get(n) ?? []));
  }
  return seen;
}

/** Whether `id` depends on `other`, directly or through its needs. Breadth first, so a direct need is found at once. */
export function dependsOn(needsOf: ReadonlyMap<string, readonly string[]>, id: string, other: string): boolean {
  const queue = [...(needsOf.get(id) ?? [])];
  const seen = new Set(queue);
  for (let i = 0; i < queue.length; i++) {
    const n = queue[i]!;
    if (n === other) return true;
    for (const m of needsOf.get(n) ?? []) {
      if (!seen.has(m)) {
        seen.add(m);
        queue.push(m);
      }
    }
  }
  return false;
}
