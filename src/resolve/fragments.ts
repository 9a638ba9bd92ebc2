import type { ServicePatchSpec } from '../model/service.js';
import { mergeLayers } from './merge.js';
import { own } from './own.js';
import { joinPath, type Problems } from './problems.js';
import { suggestion } from './schema-errors.js';

/**
 * Replaces `extends` by the named fragments, merged in order under the patch itself. Each
 * fragment is expanded once and remembered: fragments that each extend the previous one twice
 * would otherwise cost 2^n expansions.
 */
export class FragmentExpander {
  private readonly expanded = new Map<string, ServicePatchSpec>();
  /** Fragments being expanded, outermost first: a name met again here is a cycle. */
  private readonly stack: string[] = [];
  /** How many fragments were expanded (not taken from memory); tests read it to check the work is linear. */
  expansions = 0;

  constructor(
    private readonly fragments: Readonly<Record<string, ServicePatchSpec>>,
    private readonly fragmentsFile: string,
    private readonly problems: Problems,
  ) {}

  /** Expands a patch written at `path` in `file`. */
  expand(patch: ServicePatchSpec, file: string, path: string): ServicePatchSpec {
    const { extends: names, ...rest } = patch;
    let merged: ServicePatchSpec = {};
    (names ?? []).forEach((name, index) => {
      const fragment = own(this.fragments, name);
      if (fragment === undefined) {
        this.problems.add(file, joinPath(path, 'extends', index), `no fragment is named "${name}"${suggestion(name, Object.keys(this.fragments))}`);
        return;
      }
      if (this.stack.includes(name)) {
        this.problems.add(file, joinPath(path, 'extends', index), `fragments form a cycle: ${[...this.stack, name].join(' -> ')}`);
        return;
      }
      merged = mergeLayers(merged, this.fragment(name, fragment));
    });
    return mergeLayers(merged, rest);
  }

  private fragment(name: string, fragment: ServicePatchSpec): ServicePatchSpec {
    const known = this.expanded.get(name);
    if (known !== undefined) return known;
    this.expansions++;
    this.stack.push(name);
    try {
      const result = this.expand(fragment, this.fragmentsFile, joinPath('fragments', name));
      this.expanded.set(name, result);
      return result;
    } finally {
      this.stack.pop();
    }
  }
}
