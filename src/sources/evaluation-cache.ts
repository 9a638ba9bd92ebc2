import type { RepoTree } from './trees.js';
import type { Evaluation } from './sandbox/sandbox.js';

interface Entry {
  /** Content id of every file the evaluation read (the file itself and its imports). */
  readonly reads: ReadonlyArray<readonly [string, string | undefined]>;
  readonly evaluation: Evaluation;
}

/**
 * Results of evaluated files, keyed by what they were made from: a file's result is reused only
 * while the file and every file it imported have the same content. A failure (a timeout, say)
 * records no reads, so it is kept only under the id of the whole tree it failed in. Nothing here
 * is written by evaluated code: the sandbox only answers, the loader stores.
 */
export class EvaluationCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxEntries = 20_000) {}

  async get(tree: RepoTree, path: string): Promise<Evaluation | undefined> {
    for (const key of [await this.fileKey(tree, path), this.treeKey(tree, path)]) {
      const entry = key === undefined ? undefined : this.entries.get(key);
      if (entry === undefined) continue;
      let same = true;
      for (const [read, id] of entry.reads) {
        if ((await tree.contentId(read)) !== id) {
          same = false;
          break;
        }
      }
      if (same) return entry.evaluation;
    }
    return undefined;
  }

  async set(tree: RepoTree, path: string, evaluation: Evaluation): Promise<void> {
    if (evaluation.ok) {
      const key = await this.fileKey(tree, path);
      if (key === undefined) return;
      const reads = await Promise.all(evaluation.reads.map(async (read) => [read, await tree.contentId(read)] as const));
      this.store(key, { reads, evaluation });
    } else {
      const key = this.treeKey(tree, path);
      if (key !== undefined) this.store(key, { reads: [], evaluation });
    }
  }

  private store(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  private async fileKey(tree: RepoTree, path: string): Promise<string | undefined> {
    const id = await tree.contentId(path);
    return id === undefined ? undefined : JSON.stringify(['file', tree.label, path, id]);
  }

  private treeKey(tree: RepoTree, path: string): string | undefined {
    return tree.treeId === undefined ? undefined : JSON.stringify(['tree', tree.label, tree.treeId, path]);
  }
}
