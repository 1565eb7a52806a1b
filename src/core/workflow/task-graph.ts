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
  return needsFirstOrder(tasks);
}

/**
 * Like `topologicalOrder`, for views that must never drop a row: tasks caught in a
 * cycle (which can't be launched, but could slip through) come last, in file order.
 * Needs naming unknown tasks are ignored.
 */
export function needsFirstOrder(tasks: readonly GraphNode[]): string[] {
  const index = new Map(tasks.map((t, i) => [t.id, i]));
  const remaining = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const t of tasks) {
    const needs = t.needs.filter((n) => index.has(n));
    remaining.set(t.id, needs.length);
    for (const n of needs) dependents.set(n, [...(dependents.get(n) ?? []), t.id]);
  }
  const byFileOrder = (a: string, b: string) => index.get(a)! - index.get(b)!;
  const ready = tasks.filter((t) => remaining.get(t.id) === 0).map((t) => t.id);
  const order: string[] = [];
  while (ready.length) {
    const id = ready.shift()!;
    order.push(id);
    for (const d of dependents.get(id) ?? []) {
      const left = remaining.get(d)! - 1;
      remaining.set(d, left);
      if (left > 0) continue;
      // Keep `ready` in file order; workflows are small enough that a linear insert beats a heap.
      const at = ready.findIndex((r) => byFileOrder(d, r) < 0);
      ready.splice(at < 0 ? ready.length : at, 0, d);
    }
  }
  if (order.length < tasks.length) {
    const placed = new Set(order);
    order.push(...tasks.filter((t) => !placed.has(t.id)).map((t) => t.id));
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
