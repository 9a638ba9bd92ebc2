import type * as k8s from '@kubernetes/client-node';
import { ClusterConnections, ClusterSecretError } from '../cluster/clusters.js';
import { kubeConfigFrom } from '../cluster/kube-client.js';
import { DEFAULT_CONTROLLER_NAMESPACE } from '../controller/manifests.js';
import { UserError } from '../errors.js';
import type { AppSources } from '../resolve/index.js';
import type { ResolvedCluster } from '../resolve/model.js';

/** How a command reaches an environment's own cluster. */
export interface ClusterTargetOptions {
  /** The cluster of `--kubeconfig`: the controller's (home) cluster when the environment names another. */
  readonly kubeconfig?: string;
  /** `--cluster-kubeconfig`: the environment's own cluster, with the user's credentials instead of the Secret's. */
  readonly clusterKubeconfig?: string;
  /** Where the clusters' Secrets live: the controller's namespace. */
  readonly controllerNamespace: string;
}

/**
 * The client of the cluster an environment deploys to. Without `cluster`: `--kubeconfig`'s. With
 * one: `--cluster-kubeconfig` when given, else the kubeconfig the controller uses, read from its
 * Secret in the controller's namespace of `--kubeconfig`'s cluster: the CLI then deploys where
 * the controller would, never by accident to the cluster of the current context.
 */
export async function environmentCluster(environment: string, cluster: ResolvedCluster | undefined, options: ClusterTargetOptions, say: (line: string) => void): Promise<k8s.KubeConfig> {
  if (cluster === undefined) {
    if (options.clusterKubeconfig !== undefined) throw new UserError(`environment ${environment} names no cluster (environments.${environment}.cluster): it deploys to the cluster of --kubeconfig; drop --cluster-kubeconfig`);
    return kubeConfigFrom(options.kubeconfig);
  }
  if (options.clusterKubeconfig !== undefined) {
    say(`environment ${environment} is in cluster ${cluster.name}: using --cluster-kubeconfig ${options.clusterKubeconfig}\n`);
    return kubeConfigFrom(options.clusterKubeconfig);
  }
  const connections = new ClusterConnections(kubeConfigFrom(options.kubeconfig), options.controllerNamespace);
  try {
    const config = await connections.config(cluster);
    say(`environment ${environment} is in cluster ${cluster.name}: kubeconfig from Secret ${options.controllerNamespace}/${cluster.secret}\n`);
    return config;
  } catch (error) {
    if (error instanceof ClusterSecretError) throw new UserError(`${error.message}\n(or pass --cluster-kubeconfig FILE to reach cluster ${cluster.name} with your own credentials)`, { cause: error });
    throw error;
  }
}

/** The options of a command that deploys or compares an environment, with the controller's namespace from the ops config. */
export function clusterTarget(sources: AppSources, options: { kubeconfig?: string; clusterKubeconfig?: string; controllerNamespace?: string }): ClusterTargetOptions {
  // The config was validated when the environment was resolved: `controller.namespace` is a DNS label, or absent.
  const controller = (sources.config.value as { controller?: { namespace?: unknown } } | undefined)?.controller;
  const configured = typeof controller?.namespace === 'string' ? controller.namespace : undefined;
  return {
    ...(options.kubeconfig === undefined ? {} : { kubeconfig: options.kubeconfig }),
    ...(options.clusterKubeconfig === undefined ? {} : { clusterKubeconfig: options.clusterKubeconfig }),
    controllerNamespace: options.controllerNamespace ?? configured ?? DEFAULT_CONTROLLER_NAMESPACE,
  };
}
