import type { ConfigProblem } from '../errors.js';
import type { BranchRule, ConfigSpec } from '../model/config.js';

/** A branch rule that matched, with its place in `branches`. */
export interface RuleMatch {
  readonly index: number;
  readonly rule: BranchRule;
}

/**
 * A pattern as users write it: an exact name, a glob, or a regular expression (a `RegExp`, or a
 * string written `/.../flags`). In globs `*` matches any run of characters, `/` included, so
 * `feature/*` matches `feature/a/b` and `*` matches every branch; `?` matches one character.
 */
export type BranchPattern =
  | { readonly kind: 'exact'; readonly name: string }
  | { readonly kind: 'glob'; readonly glob: string }
  | { readonly kind: 'regex'; readonly regex: RegExp };

export function parsePattern(branch: string | RegExp): BranchPattern {
  if (branch instanceof RegExp) return { kind: 'regex', regex: branch };
  const literal = /^\/(.+)\/([a-z]*)$/.exec(branch);
  if (literal !== null) return { kind: 'regex', regex: new RegExp(literal[1] ?? '', literal[2]) };
  if (/[*?]/.test(branch)) return { kind: 'glob', glob: branch };
  return { kind: 'exact', name: branch };
}

export function matchesPattern(pattern: BranchPattern, branch: string): boolean {
  switch (pattern.kind) {
    case 'exact':
      return pattern.name === branch;
    case 'glob':
      return globCovers(pattern.glob, branch, false);
    case 'regex':
      pattern.regex.lastIndex = 0;
      return pattern.regex.test(branch);
  }
}

/** The first rule matching `branch`, or undefined: unmatched branches are ignored. */
export function matchBranch(rules: readonly BranchRule[], branch: string): RuleMatch | undefined {
  const index = rules.findIndex((rule) => matchesPattern(parsePattern(rule.branch), branch));
  const rule = rules[index];
  return rule === undefined ? undefined : { index, rule };
}

/** The branch that feeds a named environment: the first exact-name rule that targets it. */
export function feedBranch(rules: readonly BranchRule[], environment: string): string | undefined {
  for (const rule of rules) {
    const pattern = parsePattern(rule.branch);
    if (rule.environment === environment && pattern.kind === 'exact') return pattern.name;
  }
  return undefined;
}

/**
 * Rules that can never match because an earlier rule matches every branch they would (e.g.
 * `feature/*` after `*`), and rules naming an environment that does not exist.
 */
export function checkBranchRules(config: Pick<ConfigSpec, 'branches' | 'environments'>, file: string): ConfigProblem[] {
  const rules = config.branches ?? [];
  const problems: ConfigProblem[] = [];
  const patterns = rules.map((rule) => parsePattern(rule.branch));
  const known = Object.keys(config.environments);
  rules.forEach((rule, index) => {
    const target = rule.environment ?? rule.preview?.base;
    const field = rule.environment === undefined ? 'preview.base' : 'environment';
    if (target !== undefined && !known.includes(target)) {
      problems.push({ file, path: `branches[${index}].${field}`, message: `no environment is named "${target}"; ${file} defines ${known.join(', ')}` });
    }
    const pattern = patterns[index];
    if (pattern === undefined) return;
    const shadow = patterns.slice(0, index).findIndex((earlier) => covers(earlier, pattern));
    if (shadow >= 0) {
      problems.push({
        file,
        path: `branches[${index}].branch`,
        message: `can never match: every branch it matches is taken first by branches[${shadow}] (${describe(rules[shadow]?.branch)}); move it above that rule or remove it`,
      });
    }
  });
  return problems;
}

function describe(branch: string | RegExp | undefined): string {
  return branch instanceof RegExp ? String(branch) : JSON.stringify(branch);
}

const MATCH_ALL = new Set(['(?:)', '.*', '^.*', '.*$', '^.*$', '.+', '^.+', '.+$', '^.+$']);

/** True when every branch `later` matches is also matched by `earlier`. Conservative for regexes. */
export function covers(earlier: BranchPattern, later: BranchPattern): boolean {
  if (later.kind === 'exact') return matchesPattern(earlier, later.name);
  if (earlier.kind === 'glob' && later.kind === 'glob') return globCovers(earlier.glob, later.glob, true);
  if (earlier.kind === 'regex' && later.kind === 'regex') return String(earlier.regex) === String(later.regex);
  // A regex that accepts anything (`/.*/`, `/^.*$/`) covers every glob.
  if (earlier.kind === 'regex') return MATCH_ALL.has(earlier.regex.source);
  return false;
}

/**
 * Glob matching. With `symbolic` the subject is itself a glob: `earlier`'s `*` may absorb the
 * subject's `*` and `?`, its `?` may absorb the subject's `?`; that decides glob inclusion.
 */
function globCovers(pattern: string, subject: string, symbolic: boolean): boolean {
  const memo = new Map<number, boolean>();
  const go = (p: number, s: number): boolean => {
    const key = p * (subject.length + 1) + s;
    const cached = memo.get(key);
    if (cached !== undefined) return cached;
    let result: boolean;
    if (p === pattern.length) result = s === subject.length;
    else {
      const pc = pattern[p];
      const sc = subject[s];
      if (pc === '*') result = go(p + 1, s) || (s < subject.length && go(p, s + 1));
      else if (s === subject.length) result = false;
      else if (pc === '?') result = (!symbolic || sc !== '*') && go(p + 1, s + 1);
      else result = (!symbolic || (sc !== '*' && sc !== '?')) && pc === sc && go(p + 1, s + 1);
    }
    memo.set(key, result);
    return result;
  };
  return go(0, 0);
}
