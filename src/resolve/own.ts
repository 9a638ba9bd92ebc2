/**
 * Looks a user-given name up among a record's own keys only. `record[name]` would find
 * `constructor`, `toString` or `__proto__` on every object, and turn a name nobody defined into
 * a function or a prototype; every lookup by a name from a config goes through here.
 */
export function own<T>(record: Readonly<Record<string, T>> | undefined, name: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, name) ? record[name] : undefined;
}

/** True when `name` is an own key of `record`. */
export function hasOwn(record: Readonly<Record<string, unknown>> | undefined, name: string): boolean {
  return record !== undefined && Object.hasOwn(record, name);
}
