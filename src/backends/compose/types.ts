/**
 * The parts of the Compose Specification diploid writes. Plain data: the backend builds these,
 * serialisation turns them into `compose.yaml`. Field names are the spec's own.
 */

export interface ComposeFile {
  readonly name: string;
  readonly services: Record<string, ComposeService>;
  volumes?: Record<string, ComposeTopVolume>;
  configs?: Record<string, { readonly content: string }>;
  secrets?: Record<string, { readonly file: string }>;
}

export interface ComposeService {
  image: string;
  build?: ComposeBuild;
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string>;
  expose?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: DependencyCondition }>;
  healthcheck?: ComposeHealthcheck;
  configs?: ComposeFileMount[];
  secrets?: ComposeFileMount[];
  volumes?: ComposeVolumeMount[];
  deploy?: ComposeDeploy;
  restart?: string;
  /** Services in a profile start only when asked for (`docker compose run`, `--profile`). */
  profiles?: string[];
  stop_grace_period?: string;
  user?: string;
  read_only?: boolean;
  cap_drop?: string[];
  cap_add?: string[];
  security_opt?: string[];
  labels?: Record<string, string>;
}

export type DependencyCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface ComposeBuild {
  context: string;
  dockerfile?: string;
  dockerfile_inline?: string;
  args?: Record<string, string>;
  target?: string;
}

export interface ComposeHealthcheck {
  test: string[];
  interval?: string;
  timeout?: string;
  retries?: number;
  start_period?: string;
}

/** A config or secret placed in the container as a file. */
export interface ComposeFileMount {
  source: string;
  target: string;
  mode?: number;
}

export type ComposeVolumeMount =
  | { type: 'tmpfs'; target: string; tmpfs?: { size: number } }
  | { type: 'volume'; source: string; target: string; read_only?: boolean; volume?: { subpath: string } };

export interface ComposeTopVolume {
  readonly labels?: Record<string, string>;
}

export interface ComposeDeploy {
  mode?: 'global';
  replicas?: number;
  resources?: {
    limits?: { cpus?: string; memory?: string };
    reservations?: { cpus?: string; memory?: string };
  };
}
