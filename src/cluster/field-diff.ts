/**
 * The fields diploid manages, compared: what diploid renders decides which paths count (a field
 * it does not set, such as a default the API server fills in, is never reported). Values are
 * taken from the live object and from the server's dry-run result, both normalised by the same
 * server, so `200m` and `0.2` never show up as a change. Pure.
 */

/** One field that would change. `before` undefined: added; `after` undefined: removed. */
export interface FieldChange {
  /** `spec.template.spec.containers[0].env[1].value` */
  readonly path: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The changes between `live` and `next` on the paths `shape` (diploid's own object) sets. */
export function managedChanges(shape: Json, live: Json, next: Json, path = ''): FieldChange[] {
  if (isObject(shape)) {
    const changes: FieldChange[] = [];
    for (const key of Object.keys(shape).sort()) {
      if (path === '' && key === 'status') continue;
      const child = path === '' ? key : `${path}.${key}`;
      changes.push(...managedChanges(shape[key], isObject(live) ? live[key] : undefined, isObject(next) ? next[key] : undefined, child));
    }
    return changes;
  }
  if (Array.isArray(shape)) {
    const before = Array.isArray(live) ? live : [];
    const after = Array.isArray(next) ? next : [];
    const changes: FieldChange[] = [];
    // Lists diploid sets are compared item by item, each item on the shape diploid gives it.
    for (let index = 0; index < Math.max(before.length, after.length); index++) {
      const itemShape = shape[Math.min(index, shape.length - 1)];
      const child = `${path}[${index}]`;
      if (index >= after.length) changes.push({ path: child, before: before[index] });
      else if (index >= before.length) changes.push({ path: child, after: after[index] });
      else changes.push(...managedChanges(itemShape ?? after[index], before[index], after[index], child));
    }
    return changes;
  }
  if (JSON.stringify(live) === JSON.stringify(next)) return [];
  return [{ path, ...(live === undefined ? {} : { before: live }), ...(next === undefined ? {} : { after: next }) }];
}

/** `path: "v1" -> "v2"`, `path: + 3`, `path: - "x"`: one line per change. Pure. */
export function changeLine(change: FieldChange): string {
  const show = (value: unknown) => JSON.stringify(value);
  if (change.before === undefined) return `${change.path}: + ${show(change.after)}`;
  if (change.after === undefined) return `${change.path}: - ${show(change.before)}`;
  return `${change.path}: ${show(change.before)} -> ${show(change.after)}`;
}
