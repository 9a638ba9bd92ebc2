import type { MergedService } from './layers.js';
import type { PortProtocol, ResolvedPort } from './model.js';
import type { Problems } from './problems.js';
import { joinPath } from './problems.js';
import { suggestion } from './schema-errors.js';

type PortSpec = number | { port: number; protocol?: PortProtocol; servicePort?: number };

/** Turns `port` / `ports` into named ports; a lone `port` is named after its protocol. */
export function resolvePorts(service: MergedService, problems: Problems): ResolvedPort[] {
  const { port, ports } = service.spec;
  const file = service.origins.get('ports') ?? service.origins.get('port') ?? service.files.at(-1) ?? '';
  if (port !== undefined && ports !== undefined) {
    problems.add(file, joinPath('services', service.name, 'port'), 'set either port (a single port) or ports (named ports), not both');
  }
  const entries: Array<[string | undefined, PortSpec]> = port !== undefined ? [[undefined, port]] : Object.entries(ports ?? {});
  const resolved = entries.map(([name, spec]): ResolvedPort => {
    const full = typeof spec === 'number' ? { port: spec } : spec;
    const protocol = full.protocol ?? 'http';
    return { name: name ?? protocol, port: full.port, servicePort: full.servicePort ?? full.port, protocol };
  });
  const seen = new Map<number, string>();
  for (const entry of resolved) {
    const other = seen.get(entry.servicePort);
    if (other !== undefined) problems.add(file, joinPath('services', service.name, 'ports', entry.name), `port ${entry.servicePort} is already used by port "${other}"`);
    seen.set(entry.servicePort, entry.name);
  }
  return resolved;
}

/** Finds a port by name or number; `undefined` means the first port. */
export function findPort(ports: readonly ResolvedPort[], wanted: string | number | undefined): ResolvedPort | undefined {
  if (wanted === undefined) return ports[0];
  return ports.find((port) => (typeof wanted === 'number' ? port.port === wanted || port.servicePort === wanted : port.name === wanted));
}

/** Explains why `findPort` found nothing. */
export function missingPortMessage(service: string, ports: readonly ResolvedPort[], wanted: string | number | undefined): string {
  if (ports.length === 0) return `service "${service}" has no ports`;
  const names = ports.map((port) => port.name);
  const known = ports.map((port) => `${port.name} (${port.port})`).join(', ');
  const hint = typeof wanted === 'string' ? suggestion(wanted, names) : '';
  return `service "${service}" has no port ${JSON.stringify(wanted)}${hint}; its ports are ${known}`;
}
