import { z } from 'zod';
import { isDataKey, isDnsSubdomain, isLabelKey, isLabelValue, isPortName, isServiceName, MAX_ID } from './kubernetes-names.js';

/** DNS-1123 label: what Kubernetes accepts as a Service, namespace or container name. */
export const dnsLabel = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS label: lower-case letters, digits and "-", starting and ending with a letter or digit');

/** A service name: a DNS label that starts with a letter, since it names a Kubernetes Service. */
export const serviceName = z
  .string()
  .refine(isServiceName, 'a service name: at most 63 lower-case letters, digits and "-", starting with a letter and ending with a letter or digit');

/** A port name, which Kubernetes wants to be an IANA service name. */
export const portName = z
  .string()
  .refine(isPortName, 'a port name: at most 15 lower-case letters, digits and "-", with at least one letter, no "--", not starting or ending with "-"');

/** A DNS subdomain: ConfigMap, Secret and IngressClass names. */
export const dnsSubdomain = z
  .string()
  .refine(isDnsSubdomain, 'a DNS subdomain: at most 253 lower-case letters, digits, "-" and ".", each part starting and ending with a letter or digit');

/** A label key: `name` or `prefix/name`. */
export const labelKey = z
  .string()
  .refine(isLabelKey, 'a label key: a name of at most 63 letters, digits, "-", "_" and "." (starting and ending with a letter or digit), optionally after a DNS subdomain and "/"');

/** A label value. */
export const labelValue = z
  .string()
  .refine(isLabelValue, 'a label value: at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit');

/** A key of a Secret (or ConfigMap). */
export const dataKey = z.string().refine(isDataKey, 'a key of letters, digits, "-", "_" and "." (at most 253 characters)');

/** A uid or gid as Kubernetes accepts it. */
export const idNumber = z.number().int().min(0).max(MAX_ID);

export const portNumber = z.number().int().min(1).max(65535);

/** Kubernetes quantity such as `200m`, `1.5`, `64Mi`, `1Gi`. */
const quantityText = z
  .string()
  .regex(/^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$/, 'a quantity such as "200m", "0.5", "64Mi" or "1Gi"');
export const quantity = z.union([z.string(), z.number()]).transform(String).pipe(quantityText);

/**
 * A resource as `request..limit` (`'200m..300m'`), a single value used for both, or an object.
 * Writing the pair in one string keeps the common case on one line.
 */
export const resourceRange = z.union([
  z
    .string()
    .regex(/\.\./)
    .transform((text) => {
      const [request, limit] = text.split('..');
      const range: { request?: string; limit?: string } = {};
      if (request) range.request = request;
      if (limit) range.limit = limit;
      return range;
    })
    .pipe(z.object({ request: quantityText.optional(), limit: quantityText.optional() })),
  quantity.transform((value) => ({ request: value, limit: value })),
  z.strictObject({ request: quantity.optional(), limit: quantity.optional() }),
]);
export type ResourceRange = z.output<typeof resourceRange>;

/** Where a secret comes from at run time: an environment variable or a file. Never inline. */
export const secretSourceSchema = z.union([
  z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name') }),
  z.strictObject({ file: z.string().min(1) }),
]);
export type SecretSource = z.output<typeof secretSourceSchema>;

/** Durations such as `30s`, `15m`, `12h`, `7d`. */
export const durationSchema = z.string().regex(/^[0-9]+(s|m|h|d)$/, 'a duration such as "30s", "15m", "12h" or "7d"');
