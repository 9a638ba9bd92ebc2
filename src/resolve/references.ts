import type { ServiceRef } from '../model/values.js';
import { reportField, type ResolveContext } from './context.js';
import type { MergedService } from './layers.js';
import type { ResolvedEnvValue } from './model.js';
import { own } from './own.js';
import { findPort, missingPortMessage } from './ports.js';
import { describeValue } from './problems.js';
import { suggestion } from './schema-errors.js';

/** Where a problem found while evaluating a value is reported. */
export interface ValueSite {
  readonly service: MergedService;
  readonly field: string;
  readonly segments: ReadonlyArray<PropertyKey>;
}

/** Records the services a service refers to, for dependency order and preview reuse. */
export type ReferenceSink = Set<string>;

const secretLikeName = /(^|[_.-])(PASSWORD|PASSWD|PASS|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIALS?)($|[_.-])/i;

/** True when a name says it holds a secret, so a literal value there is a leak. */
export function looksSecret(name: string): boolean {
  return secretLikeName.test(name);
}

/** Evaluates `shared('X')`; `undefined` (with a problem) when it is not defined. */
export function sharedValue(context: ResolveContext, name: string, site: ValueSite): ResolvedEnvValue | undefined {
  const envShared = own(context.config.environments, context.environment.name)?.shared ?? {};
  const value = own(envShared, name) ?? own(context.config.shared, name);
  if (value === undefined) {
    const known = [...new Set([...Object.keys(context.config.shared ?? {}), ...Object.keys(envShared)])];
    reportField(context, site.service, site.field, site.segments, `shared value "${name}" is not defined in the config's shared values${suggestion(name, known)}`);
    return undefined;
  }
  if (typeof value === 'object') return { kind: 'secret', secret: value.$secret.name, key: value.$secret.key };
  return { kind: 'literal', value: String(value) };
}

/** Evaluates `ref('svc').part` to text: `redis:6379`, `http://api:8080`, `https://shop.example.com`. */
export function serviceReference(context: ResolveContext, reference: ServiceRef, site: ValueSite, sink: ReferenceSink): string | undefined {
  const target = context.services.get(reference.$ref);
  if (target === undefined) {
    if (context.invalid.has(reference.$ref)) return undefined;
    reportField(context, site.service, site.field, site.segments, `refers to service "${reference.$ref}", which does not exist${suggestion(reference.$ref, [...context.services.keys()])}`);
    return undefined;
  }
  sink.add(target.name);
  if (reference.part === 'origin') {
    const route = context.routes.get(target.name)?.[0];
    if (route === undefined) {
      reportField(context, site.service, site.field, site.segments, `refers to the public origin of "${target.name}", which has no routes`);
      return undefined;
    }
    return `${route.tls ? 'https' : 'http'}://${route.host}`;
  }
  const ports = context.ports.get(target.name) ?? [];
  const port = findPort(ports, reference.port);
  if (port === undefined) {
    reportField(context, site.service, site.field, site.segments, missingPortMessage(target.name, ports, reference.port));
    return undefined;
  }
  const host = target.name;
  switch (reference.part) {
    case 'host':
      return host;
    case 'port':
      return String(port.servicePort);
    case 'url':
      return `${port.protocol === 'grpc' ? 'grpc' : port.protocol === 'tcp' || port.protocol === 'udp' ? port.protocol : 'http'}://${host}:${port.servicePort}`;
    default:
      return `${host}:${port.servicePort}`;
  }
}

/** Evaluates an environment variable's value. */
export function envValue(context: ResolveContext, name: string, value: unknown, site: ValueSite, sink: ReferenceSink): ResolvedEnvValue | undefined {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    // Numbers count too: `DB_PASSWORD: 31337001` leaks as surely as a string does.
    if (typeof value !== 'boolean' && String(value) !== '' && looksSecret(name)) {
      reportField(context, site.service, site.field, site.segments, `looks like a secret written inline (${describeValue('*'.repeat(Math.min(String(value).length, 8)))}); use secret('<secret-name>', '<key>') so the value stays out of git and rendered output`);
      return undefined;
    }
    return { kind: 'literal', value: String(value) };
  }
  if (typeof value === 'object' && value !== null) {
    if ('$shared' in value) {
      const sharedName = (value as { $shared: string }).$shared;
      const resolved = sharedValue(context, sharedName, site);
      // A plain shared value is a literal in git, just one step removed.
      if (resolved?.kind === 'literal' && resolved.value !== '' && looksSecret(name)) {
        reportField(context, site.service, site.field, site.segments, `takes shared value "${sharedName}", which is a plain value, but the name says it holds a secret; define shared "${sharedName}" as secret('<secret-name>', '<key>'), or use secret() here`);
        return undefined;
      }
      return resolved;
    }
    if ('$secret' in value) {
      const { name: secretName, key } = (value as { $secret: { name: string; key: string } }).$secret;
      return { kind: 'secret', secret: secretName, key };
    }
    if ('$ref' in value) {
      const text = serviceReference(context, value as ServiceRef, site, sink);
      return text === undefined ? undefined : { kind: 'literal', value: text };
    }
  }
  reportField(context, site.service, site.field, site.segments, `expected a string, number, boolean, shared(), secret() or ref(), got ${describeValue(value)}`);
  return undefined;
}
