/**
 * Messages between diploid and its evaluation sandbox (`child.ts`), one JSON object per line:
 * the parent on the child's standard input, the child on its standard output. The child asks
 * for every file it needs; it reads nothing from disk of the repo's, and gets nothing else.
 */

/** Parent -> child. */
export type ParentMessage =
  /** Who the files are for; first in every batch, before its files (a process may be started before they are known). */
  | ({ readonly op: 'settings' } & ChildSettings)
  /** Evaluate `path` (a path inside the tree) and report its default export; its text comes along, saving a round trip. */
  | {
      readonly op: 'evaluate';
      readonly path: string;
      readonly text: string | null;
      /**
       * Run its synchronous code under V8's watchdog, which stops an endless loop and says so. Set
       * only for a file that already ran out of time once: the watchdog costs about half a
       * millisecond per file (a thread per evaluation), most of the time of a 1000-file load.
       */
      readonly watchdog?: boolean;
    }
  /** The answer to a `read`: the file's text, or null when the tree has no such file. */
  | { readonly op: 'source'; readonly path: string; readonly text: string | null };

/** Child -> parent. */
export type ChildMessage =
  /** Started, before any file: a sandbox that ends before this could not start at all. */
  | { readonly op: 'ready' }
  | { readonly op: 'read'; readonly path: string }
  /** The file's default export as plain data, and every file its evaluation read. */
  | { readonly op: 'done'; readonly path: string; readonly value: unknown; readonly reads: readonly string[] }
  | { readonly op: 'failed'; readonly path: string; readonly message: string; readonly line?: number };

/** Who the child is evaluating for, sent as a `settings` message. */
export interface ChildSettings {
  /** Shown before tree paths in messages and stack traces: `` for the ops repo, `repo:web/` for a service repo. */
  readonly label: string;
  /** Milliseconds a file's synchronous code, and the promise it exports, may take. */
  readonly timeMs: number;
}
