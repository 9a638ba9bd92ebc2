import type { ConfigSpec } from '../model/config.js';
import type { MergedService } from './layers.js';
import type { ResolvedEnvironment, ResolvedPort, ResolvedRoute } from './model.js';
import { joinPath, type Problems } from './problems.js';

/** What resolving one service may look up about the environment and the other services. */
export interface ResolveContext {
  readonly config: ConfigSpec;
  readonly configFile: string;
  readonly environment: ResolvedEnvironment;
  readonly services: ReadonlyMap<string, MergedService>;
  /** Services left out because their file is invalid; already reported. */
  readonly invalid: ReadonlySet<string>;
  readonly ports: ReadonlyMap<string, readonly ResolvedPort[]>;
  readonly routes: ReadonlyMap<string, readonly ResolvedRoute[]>;
  readonly problems: Problems;
  /** Which port `ref()` addresses name: the Service's (Kubernetes) or the container's (compose). */
  readonly addressPorts: AddressPorts;
}

export type AddressPorts = 'service' | 'container';

/** Reports a problem about a field of a merged service, in the file that last set that field. */
export function reportField(context: ResolveContext, service: MergedService, field: string, segments: ReadonlyArray<PropertyKey>, message: string): void {
  const file = service.origins.get(field) ?? service.files.at(-1) ?? context.configFile;
  context.problems.add(file, joinPath(joinPath('services', service.name), field, ...segments), message);
}
