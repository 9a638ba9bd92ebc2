/** Conversions from the model's Kubernetes-style quantities to what compose reads. */

const QUANTITY = /^([0-9]+(?:\.[0-9]+)?)(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$/;

const FACTORS: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

function parse(quantity: string): { number: string; suffix: string } {
  const match = QUANTITY.exec(quantity);
  if (match === null) throw new Error(`not a quantity: ${quantity}`);
  return { number: match[1] as string, suffix: match[2] ?? '' };
}

/** `250m` -> `0.25`, `2` -> `2`: compose `cpus` counts whole CPUs. */
export function cpus(quantity: string): string {
  const { number, suffix } = parse(quantity);
  const millicores = Math.round(Number(number) * (FACTORS[suffix] ?? 1) * 1000);
  return String(millicores / 1000);
}

/** Bytes of a quantity, rounded up: a limit must never shrink. */
export function bytes(quantity: string): number {
  const { number, suffix } = parse(quantity);
  return Math.ceil(Number(number) * (FACTORS[suffix] ?? 1));
}

/**
 * Memory in docker's notation, where `m` and `g` are binary (MiB, GiB): `128Mi` -> `128m`.
 * Decimal quantities (`128M` = 128,000,000 bytes) are written as plain bytes, so docker does
 * not read them as binary.
 */
export function memory(quantity: string): string {
  const { number, suffix } = parse(quantity);
  const binary: Record<string, string> = { Ki: 'k', Mi: 'm', Gi: 'g', Ti: 't', Pi: 'p' };
  const unit = binary[suffix];
  if (unit !== undefined && /^[0-9]+$/.test(number)) return `${number}${unit}`;
  return String(bytes(quantity));
}

/** Seconds as a compose duration: `10` -> `10s`. */
export function duration(seconds: number): string {
  return `${seconds}s`;
}
