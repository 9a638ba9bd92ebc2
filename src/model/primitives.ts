import { z } from 'zod';

/** DNS-1123 label: what Kubernetes accepts as a Service, namespace or container name. */
export const dnsLabel = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS label: lower-case letters, digits and "-", starting and ending with a letter or digit');

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
