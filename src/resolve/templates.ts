import { reportField, type ResolveContext } from './context.js';
import type { FilePart, ResolvedEnvVar } from './model.js';
import { isDataKey, isDnsSubdomain } from '../model/kubernetes-names.js';
import { findPlaceholders } from './placeholders.js';
import { describeValue } from './problems.js';
import { serviceReference, sharedValue, type ReferenceSink, type ValueSite } from './references.js';
import { suggestion } from './schema-errors.js';

/**
 * Renders a config-file template. Text known now is filled in; a secret stays a separate part,
 * so that it is assembled inside the running pod and never lands in rendered output.
 */
export function renderTemplate(
  context: ResolveContext,
  template: string,
  env: readonly ResolvedEnvVar[],
  site: ValueSite,
  sink: ReferenceSink,
): FilePart[] {
  const parts: FilePart[] = [];
  const pushText = (text: string) => {
    const last = parts.at(-1);
    if (last !== undefined && 'text' in last) parts[parts.length - 1] = { text: last.text + text };
    else if (text !== '') parts.push({ text });
  };
  let cursor = 0;
  for (const placeholder of findPlaceholders(template)) {
    pushText(template.slice(cursor, placeholder.start));
    cursor = placeholder.end;
    const value = evaluate(context, placeholder.expression, env, site, sink);
    if (value === undefined) continue;
    if (typeof value === 'string') pushText(value);
    else parts.push(value);
  }
  pushText(template.slice(cursor));
  return parts;
}

function evaluate(context: ResolveContext, expression: string, env: readonly ResolvedEnvVar[], site: ValueSite, sink: ReferenceSink): string | FilePart | undefined {
  const [root, ...rest] = expression.split('.');
  const fail = (message: string) => {
    reportField(context, site.service, site.field, site.segments, `{{ ${expression} }}: ${message}`);
    return undefined;
  };
  switch (root) {
    case 'environment':
      return rest.length === 0 ? context.environment.name : fail('environment has no fields');
    case 'namespace':
      return rest.length === 0 ? context.environment.namespace : fail('namespace has no fields');
    case 'domain':
      return context.environment.domain ?? fail(`environment "${context.environment.name}" has no domain`);
    case 'env': {
      const name = rest.join('.');
      const variable = env.find((candidate) => candidate.name === name);
      if (variable === undefined) return fail(`the service sets no environment variable "${name}"${suggestion(name, env.map((e) => e.name))}`);
      return variable.value.kind === 'literal' ? variable.value.value : { secret: variable.value.secret, key: variable.value.key };
    }
    case 'shared': {
      const value = sharedValue(context, rest.join('.'), site);
      if (value === undefined) return undefined;
      return value.kind === 'literal' ? value.value : { secret: value.secret, key: value.key };
    }
    case 'secrets': {
      if (rest.length !== 2) return fail('expected {{ secrets.<secret-name>.<key> }}');
      if (!isDnsSubdomain(rest[0] as string)) return fail(`secret name ${describeValue(rest[0])} is not a Kubernetes Secret name: lower-case letters, digits and "-"`);
      if (!isDataKey(rest[1] as string)) return fail(`secret key ${describeValue(rest[1])} is not a Secret key: letters, digits, "-", "_" and "."`);
      return { secret: rest[0] as string, key: rest[1] as string };
    }
    case 'services': {
      const [service, part = 'address', port] = rest;
      if (service === undefined) return fail('expected {{ services.<name>.address }} (or .host, .port, .url, .origin)');
      if (!['address', 'host', 'port', 'url', 'origin'].includes(part)) return fail(`unknown part "${part}"; expected address, host, port, url or origin`);
      const reference = { $ref: service, part: part as 'address', ...(port === undefined ? {} : { port }) };
      return serviceReference(context, reference, site, sink);
    }
    default: {
      const variable = env.find((candidate) => candidate.name === expression);
      const hint = variable ? ` (did you mean "env.${expression}"?)` : suggestion(root ?? '', ['env', 'shared', 'secrets', 'services', 'environment', 'namespace', 'domain']);
      return fail(`unknown placeholder; expected env., shared., secrets., services., environment, namespace or domain${hint}`);
    }
  }
}

