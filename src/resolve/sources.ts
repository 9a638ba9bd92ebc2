/** A loaded file: its value and the name to show in messages. Produced by the loaders at the edge. */
export interface SourceDocument {
  /** Path shown in messages, relative to the ops repo (or `repo:<name>/<path>` for a service repo). */
  readonly file: string;
  /** The module's default export. */
  readonly value: unknown;
}

/** Where a service file comes from: the ops repo, or a service's own repo. */
export type ServiceOrigin = { readonly kind: 'ops' } | { readonly kind: 'repo'; readonly repo: string };

/** Everything the pure core needs: the ops config and every service file, already read. */
export interface AppSources {
  readonly config: SourceDocument;
  readonly services: ReadonlyArray<{ readonly document: SourceDocument; readonly origin: ServiceOrigin }>;
}
