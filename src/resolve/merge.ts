/**
 * Deep merge of layers. The overlay wins: objects merge key by key; lists and scalars are
 * replaced whole; value expressions (`shared()`, `secret()`, `ref()`) count as scalars; and
 * objects that stand for one choice (a health check, a port, a volume) are replaced whole, so
 * that a layer never ends up with both an `http` and an `exec` check.
 * Lists are replaced rather than appended because an overlay that wants fewer routes, args or
 * origins than its base must be able to say so.
 */
export function mergeLayers<T>(
  base: T,
  overlay: unknown,
  isAtomic: (path: readonly string[], base: Record<string, unknown>, overlay: Record<string, unknown>) => boolean = serviceAtomic,
  path: readonly string[] = [],
): T {
  if (overlay === undefined) return base;
  if (!isMergeableObject(base) || !isMergeableObject(overlay) || (path.length > 0 && isAtomic(path, base, overlay))) return overlay as T;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    if (value === undefined) continue;
    merged[key] = key in merged ? mergeLayers(merged[key], value, isAtomic, [...path, key]) : value;
  }
  return merged as T;
}

/** Service fields replaced whole by an overlay; see `mergeLayers`. */
const ATOMIC_SERVICE_PATHS = [
  /^health\.(readiness|liveness|startup)$/,
  /^replicas$/,
  /^cors$/,
  /^spa$/,
  /^expose$/,
  /^disruption$/,
  /^resources\.(cpu|memory)$/,
  /^(ports|volumes|files)\.[^.]+$/,
];

const PROBE_KINDS = ['readiness', 'liveness', 'startup'];

function serviceAtomic(path: readonly string[], base: Record<string, unknown>, overlay: Record<string, unknown>): boolean {
  const joined = path.join('.');
  // Health merges kind by kind only when both sides list kinds; a single check replaces all.
  if (joined === 'health') return ![base, overlay].every((side) => Object.keys(side).every((key) => PROBE_KINDS.includes(key)));
  return ATOMIC_SERVICE_PATHS.some((pattern) => pattern.test(joined));
}

function isMergeableObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return false;
  return !Object.keys(value).some((key) => key.startsWith('$'));
}
