import { joinPath, type Problems } from './problems.js';

/**
 * Keys a document must not have. An own `__proto__` key (JSON, YAML or a computed key in JS) is
 * dropped or turned into a prototype by any plain copy of the object, so it is refused outright
 * rather than silently lost.
 */
const FORBIDDEN = ['__proto__'];

/**
 * Reports every forbidden key in a document, with its path. Iterative, with a visited set: a
 * deeply nested or self-referencing value costs one pass and no stack.
 */
export function checkForbiddenKeys(value: unknown, file: string, prefix: string, problems: Problems): boolean {
  let clean = true;
  const seen = new Set<object>();
  // Each entry links to its parent, so a path is built only when a problem is reported.
  const stack: Node[] = [{ value }];
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    const current = node.value;
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    for (const key of Object.keys(current)) {
      const segment = Array.isArray(current) ? Number(key) : key;
      if (FORBIDDEN.includes(key)) {
        clean = false;
        problems.add(file, joinPath(prefix, ...pathOf(node), segment), `"${key}" is not allowed as a key: it would change what every object inherits; rename it`);
        continue;
      }
      const child = (current as Record<string, unknown>)[key];
      if (typeof child === 'object' && child !== null) stack.push({ value: child, parent: node, key: segment });
    }
  }
  return clean;
}

interface Node {
  readonly value: unknown;
  readonly parent?: Node;
  readonly key?: PropertyKey;
}

function pathOf(node: Node): PropertyKey[] {
  const path: PropertyKey[] = [];
  for (let at: Node | undefined = node; at?.parent !== undefined; at = at.parent) path.push(at.key as PropertyKey);
  return path.reverse();
}
