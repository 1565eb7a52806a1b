import { isDeepStrictEqual } from 'node:util';
import type { RowPatch } from './store-records.ts';

/**
 * What turned `before` into `after`, field by field (a changed nested value is set whole; an
 * equal one in a new object, as a row read back from the database has, is no change);
 * undefined when nothing changed. Fields whose new value is undefined
 * are listed in `unset`, so a patch never carries an undefined.
 */
export function diffRow<T extends { id: string }>(before: T, after: T): RowPatch<T> | undefined {
  const set: Partial<T> = {};
  const unset: (keyof T & string)[] = [];
  let changed = false;
  for (const key of Object.keys(after) as (keyof T & string)[]) {
    const value = after[key];
    const old = before[key];
    if (value === old || (typeof value === 'object' && typeof old === 'object' && isDeepStrictEqual(value, old))) continue;
    changed = true;
    if (value === undefined) unset.push(key);
    else set[key] = value;
  }
  for (const key of Object.keys(before) as (keyof T & string)[]) {
    if (before[key] !== undefined && !(key in after)) {
      changed = true;
      unset.push(key);
    }
  }
  if (!changed) return undefined;
  return unset.length ? { id: after.id, set, unset } : { id: after.id, set };
}

/** `row` with a patch applied: a new object (rows are never mutated). */
export function patchRow<T extends object>(row: T, patch: { set: Partial<T>; unset?: (keyof T & string)[] | undefined }): T {
  const next: T = { ...row, ...patch.set };
  for (const key of patch.unset ?? []) delete (next as Record<string, unknown>)[key];
  return next;
}
