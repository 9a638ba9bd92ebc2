/**
 * Value expressions: small tagged objects that stand for a value known only when an
 * environment is resolved. They are plain data, so they survive being written in YAML,
 * imported across repos or compared in tests.
 */

/** A value from the ops config's `shared` map (or the environment's own `shared` map). */
export interface SharedValue {
  readonly $shared: string;
}

/** A key of a Kubernetes Secret (or a compose secret file); its value is never read by diploid. */
export interface SecretValue {
  readonly $secret: { readonly name: string; readonly key: string };
}

/** Which part of another service's address a reference yields. */
export type ServiceRefPart = 'address' | 'host' | 'port' | 'url' | 'origin';

/** A reference to another service: its in-cluster address, host, port, URL, or public origin. */
export interface ServiceRef {
  readonly $ref: string;
  readonly part: ServiceRefPart;
  /** Named port of the referenced service; defaults to its first port. */
  readonly port?: string;
}

/** A reference with shortcuts to each part: `ref('redis').address`, `ref('api', 'http').url`. */
export interface ServiceRefBuilder extends ServiceRef {
  readonly address: ServiceRef;
  readonly host: ServiceRef;
  readonly url: ServiceRef;
  readonly origin: ServiceRef;
  readonly portNumber: ServiceRef;
}

/** `shared('LOG_LEVEL')`: a value defined once in `.diploid.conf.js` under `shared`. */
export function shared(name: string): SharedValue {
  return { $shared: name };
}

/** `secret('shop-db', 'password')`: a reference to a secret's key; the value stays in the cluster. */
export function secret(name: string, key: string): SecretValue {
  return { $secret: { name, key } };
}

/** `ref('redis')`: the address (`host:port`) of another service; `.host`, `.url`, `.origin`... for parts. */
export function ref(service: string, port?: string): ServiceRefBuilder {
  const make = (part: ServiceRefPart): ServiceRef => (port === undefined ? { $ref: service, part } : { $ref: service, part, port });
  const base = make('address') as ServiceRefBuilder;
  // Non-enumerable so that the reference serialises and validates as plain data.
  Object.defineProperties(base, {
    address: { value: make('address'), enumerable: false },
    host: { value: make('host'), enumerable: false },
    url: { value: make('url'), enumerable: false },
    origin: { value: make('origin'), enumerable: false },
    portNumber: { value: make('port'), enumerable: false },
  });
  return base;
}
