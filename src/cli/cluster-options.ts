import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_CONTROLLER_NAMESPACE } from '../controller/manifests.js';

/** Options of the commands that read the controller's statuses in the cluster. */
export interface ClusterReadOptions {
  kubeconfig?: string;
  namespace: string;
  output: 'text' | 'json';
}

/** Adds `--kubeconfig`, `--namespace` (the controller's) and `-o, --output text|json`. */
export function withClusterReadOptions(command: Command): Command {
  return command
    .option('--kubeconfig <file>', 'kubeconfig of the cluster (default: $KUBECONFIG or ~/.kube/config)')
    .option('--namespace <name>', 'the controller\'s namespace, where statuses live', DEFAULT_CONTROLLER_NAMESPACE)
    .option('-o, --output <format>', 'text or json', parseFormat, 'text');
}

function parseFormat(text: string): 'text' | 'json' {
  if (text === 'text' || text === 'json') return text;
  throw new InvalidArgumentError('text or json');
}

/** JSON for scripts: two-space indented, one trailing newline. */
export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
