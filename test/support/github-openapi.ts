/**
 * Checks requests and responses of the GitHub REST API stand-in against GitHub's official OpenAPI
 * description (`@octokit/openapi`), so the stand-in cannot drift from what GitHub really serves.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

const require = createRequire(import.meta.url);

interface Operation {
  readonly template: string;
  readonly method: string;
  readonly regex: RegExp;
  readonly pointer: string;
  readonly spec: { parameters?: unknown[]; requestBody?: unknown; responses: Record<string, unknown> };
}

let loaded: { ajv: Ajv; operations: Operation[]; spec: Record<string, any> } | undefined;

function load() {
  if (loaded) return loaded;
  const file = require.resolve('@octokit/openapi/generated/api.github.com.json');
  const spec = JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;
  // OpenAPI 3.0 schemas: `nullable`, `example` and vendor keys are not JSON Schema keywords.
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, discriminator: false });
  const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;
  (addFormats as unknown as (ajv: Ajv) => void)(ajv);
  ajv.addSchema(spec, 'github');
  const operations: Operation[] = [];
  for (const [template, item] of Object.entries(spec.paths as Record<string, Record<string, any>>)) {
    const regex = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
    for (const [method, operation] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      operations.push({ template, method, regex, pointer: `github#/paths/${escapePointer(template)}/${method}`, spec: operation });
    }
  }
  // Literal paths win over templated ones (`/repos/{o}/{r}/hooks` before `/repos/{o}/{r}/{x}`).
  operations.sort((a, b) => (a.template.match(/\{/g)?.length ?? 0) - (b.template.match(/\{/g)?.length ?? 0));
  loaded = { ajv, operations, spec };
  return loaded;
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1').replace(/[{}]/g, encodeURIComponent);
}

const compiled = new Map<string, ValidateFunction>();
function validator(ref: string): ValidateFunction {
  let fn = compiled.get(ref);
  if (!fn) {
    fn = load().ajv.compile({ $ref: ref });
    compiled.set(ref, fn);
  }
  return fn;
}

/** Where a possibly-`$ref` node really lives, as a pointer ajv can compile with the spec's own refs. */
function pointerOf(node: any, pointer: string): string {
  return node && typeof node === 'object' && typeof node.$ref === 'string' ? `github${node.$ref.replace(/[{}]/g, encodeURIComponent)}` : pointer;
}

function resolve(node: any): any {
  const { spec } = load();
  while (node && typeof node === 'object' && typeof node.$ref === 'string') {
    node = node.$ref
      .slice(2)
      .split('/')
      .reduce((at: any, key: string) => at?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
  }
  return node;
}

/** Finds the documented operation for a request to GitHub's API; undefined if GitHub has none. */
export function findOperation(method: string, path: string): Operation | undefined {
  return load().operations.find((op) => op.method === method.toLowerCase() && op.regex.test(path));
}

/** Problems with a request (query parameters and JSON body) against its documented operation. */
export function checkRequest(method: string, path: string, query: URLSearchParams, body: unknown): string[] {
  const op = findOperation(method, path);
  if (!op) return [`${method} ${path}: no such operation in GitHub's OpenAPI description`];
  const problems: string[] = [];
  const params = (op.spec.parameters ?? []).map(resolve) as { name: string; in: string; required?: boolean; schema: any }[];
  for (const key of query.keys()) {
    const param = params.find((p) => p.in === 'query' && p.name === key);
    if (!param) {
      problems.push(`${method} ${op.template}: undocumented query parameter ${key}`);
      continue;
    }
    const raw = query.get(key) ?? '';
    const value = param.schema?.type === 'integer' ? Number(raw) : param.schema?.type === 'boolean' ? raw === 'true' ? true : raw === 'false' ? false : raw : raw;
    const check = load().ajv.compile(resolve(param.schema));
    if (!check(value)) problems.push(`${method} ${op.template}: query ${key}=${raw}: ${load().ajv.errorsText(check.errors)}`);
  }
  const requestBody = resolve(op.spec.requestBody);
  if (requestBody?.content?.['application/json']) {
    const check = validator(`${pointerOf(op.spec.requestBody, `${op.pointer}/requestBody`)}/content/application~1json/schema`);
    if (body !== undefined && !check(body)) problems.push(`${method} ${op.template} request body: ${load().ajv.errorsText(check.errors)}`);
    if (body === undefined && requestBody.required) problems.push(`${method} ${op.template}: missing required request body`);
  } else if (body !== undefined) {
    problems.push(`${method} ${op.template}: takes no request body`);
  }
  return problems;
}

/** Problems with a response against the documented responses of the operation. */
export function checkResponse(method: string, path: string, status: number, body: unknown): string[] {
  const op = findOperation(method, path);
  if (!op) return [`${method} ${path}: no such operation in GitHub's OpenAPI description`];
  const documented = op.spec.responses[String(status)] ?? op.spec.responses.default;
  // GitHub sends these for any operation (bad token, hidden or missing repository, rate limits,
  // outages) without listing them per operation; their body is still a documented basic-error.
  if (!documented) {
    if (![401, 403, 404, 429, 500, 502, 503].includes(status)) return [`${method} ${op.template}: status ${status} is not documented`];
    if (status >= 500) return [];
    const check = validator('github#/components/schemas/basic-error');
    return check(body) ? [] : [`${method} ${op.template} ${status} response: ${load().ajv.errorsText(check.errors)}`];
  }
  const content = resolve(documented)?.content?.['application/json'];
  if (!content) return body === undefined || body === '' ? [] : [`${method} ${op.template} ${status}: documented without a body`];
  const key = op.spec.responses[String(status)] ? String(status) : 'default';
  const check = validator(`${pointerOf(documented, `${op.pointer}/responses/${key}`)}/content/application~1json/schema`);
  return check(body) ? [] : [`${method} ${op.template} ${status} response: ${load().ajv.errorsText(check.errors)}`];
}
