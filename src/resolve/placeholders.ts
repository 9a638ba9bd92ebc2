/** One `{{ expression }}` found in a template. */
export interface Placeholder {
  /** Index of its `{{`. */
  readonly start: number;
  /** Index just past its `}}`. */
  readonly end: number;
  /** What is between the braces, trimmed. */
  readonly expression: string;
}

/** Counts characters looked at, for tests that check the scan stays linear. */
export interface ScanMeter {
  steps: number;
}

/**
 * Finds every `{{ expression }}`: a `{{`, then text without braces, then `}}`, leftmost first,
 * as `/\{\{\s*([^{}]*?)\s*\}\}/g` would. That pattern backtracks cubically on a `{{` followed by
 * thousands of spaces; this scan looks at each character a bounded number of times.
 */
export function findPlaceholders(template: string, meter?: ScanMeter): Placeholder[] {
  const found: Placeholder[] = [];
  let from = 0;
  for (;;) {
    const start = template.indexOf('{{', from);
    if (start < 0) break;
    // The body runs to the next brace; it is a placeholder only if that brace opens a `}}`.
    let brace = start + 2;
    while (brace < template.length && template[brace] !== '{' && template[brace] !== '}') brace++;
    if (meter !== undefined) meter.steps += brace - start + 1;
    if (template[brace] === '}' && template[brace + 1] === '}') {
      found.push({ start, end: brace + 2, expression: template.slice(start + 2, brace).trim() });
      from = brace + 2;
    } else {
      // No brace between start + 2 and `brace`: the next `{{` can only begin at start + 1
      // (when `brace` is start + 2) or at `brace` itself, so nothing is scanned twice.
      from = brace === start + 2 ? start + 1 : brace;
    }
  }
  return found;
}
