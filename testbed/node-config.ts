/**
 * Configuration files of the bed's real node, as pure functions of its folders and ports:
 * containerd's config, the CNI network, the kubelet's KubeletConfiguration and CoreDNS's
 * Corefile. The node's daemons and its clean-up are in node.ts.
 */

/** The node's name in the cluster. */
export const realNodeName = 'testbed-real-node';

/**
 * The taint the real node registers with: pods land on it only when they tolerate it, so the
 * kwok tests' pods (which tolerate nothing) never try to run real containers.
 */
export const realNodeTaint = { key: 'diploid.dev/real-node', value: 'true', effect: 'NoSchedule' } as const;

/** Label telling the two kinds of node apart: `real` here, `kwok` on the fake node. */
export const nodeKindLabel = 'diploid.dev/node-kind';

/**
 * Annotations that make a namespace a real-node namespace: the API server's PodNodeSelector and
 * PodTolerationRestriction admission plugins give each of its pods the real node's selector and
 * the toleration of its taint; the bed's DaemonSet placement policy (daemonset-placement.ts)
 * reads the first to do the same for DaemonSets' templates.
 */
export const realNodeNamespaceAnnotations = {
  'scheduler.alpha.kubernetes.io/node-selector': `${nodeKindLabel}=real`,
  'scheduler.alpha.kubernetes.io/defaultTolerations': JSON.stringify([{ key: realNodeTaint.key, operator: 'Equal', value: realNodeTaint.value, effect: realNodeTaint.effect }]),
} as const;

/** The CNI bridge and its subnet; its gateway address also serves cluster DNS (CoreDNS on the host). */
export const network = {
  bridge: 'diploid0',
  subnet: '10.244.0.0/24',
  gateway: '10.244.0.1',
  prefixLength: 24,
  /** The control plane's --service-cluster-ip-range. */
  serviceCidr: '10.96.0.0/16',
} as const;

/** The sandbox image the kubelet asks containerd for; images.sh pushes a look-alike under this name. */
export const sandboxImage = 'registry.k8s.io/pause:3.10.1';

/**
 * Registries whose names resolve to the bed's registry: public ones (images.sh pushes the
 * look-alikes), and the shop example's own `registry.example.com`, so the example's image names
 * run unchanged (its tests push what they build there, under the same paths).
 */
export const mirroredRegistries = ['docker.io', 'registry.k8s.io', 'ghcr.io', 'quay.io', 'registry.example.com'] as const;

export interface NodeDirs {
  /** containerd's persistent root (images, snapshots). */
  readonly containerdRoot: string;
  /** containerd's state (sockets, shims' bundles). */
  readonly containerdState: string;
  readonly containerdSocket: string;
  /** Folder of `<registry>/hosts.toml` files. */
  readonly certsDir: string;
  readonly cniConfDir: string;
  readonly cniDataDir: string;
}

export function containerdConfig(dirs: NodeDirs): string {
  const q = JSON.stringify;
  return `version = 3
root = ${q(dirs.containerdRoot)}
state = ${q(dirs.containerdState)}

[grpc]
  address = ${q(dirs.containerdSocket)}

[ttrpc]
  address = ${q(`${dirs.containerdSocket}.ttrpc`)}

[debug]
  address = ""

[metrics]
  address = ""

[plugins.'io.containerd.cri.v1.runtime']
  # Negative oom_score_adj values are refused on these machines; the kubelet gives sandboxes -998.
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = ${q(dirs.cniConfDir)}
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        SystemdCgroup = false

[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = ${q(sandboxImage)}
  [plugins.'io.containerd.cri.v1.images'.registry]
    config_path = ${q(dirs.certsDir)}
`;
}

/** hosts.toml for a mirrored public registry: every pull goes to the bed's registry over HTTP. */
export function mirrorHostsToml(registryHost: string, upstream: string): string {
  return `server = "https://${upstream}"

[host."http://${registryHost}"]
  capabilities = ["pull", "resolve"]
`;
}

/** hosts.toml for the bed's registry itself (images diploid builds and pushes), plain HTTP. */
export function registryHostsToml(registryHost: string): string {
  return `server = "http://${registryHost}"

[host."http://${registryHost}"]
  capabilities = ["pull", "resolve", "push"]
`;
}

/** bridge + host-local + portmap, with loopback for each pod's lo. */
export function cniConfList(cniDataDir: string): string {
  return `${JSON.stringify({
    cniVersion: '1.0.0',
    name: 'diploid-testbed',
    plugins: [
      {
        type: 'bridge',
        bridge: network.bridge,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          dataDir: cniDataDir,
          ranges: [[{ subnet: network.subnet, gateway: network.gateway }]],
          routes: [{ dst: '0.0.0.0/0' }],
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  }, null, 2)}\n`;
}

export interface KubeletSettings {
  readonly containerdSocket: string;
  readonly port: number;
  readonly healthzPort: number;
  readonly podLogsDir: string;
  readonly volumePluginDir: string;
}

/**
 * The KubeletConfiguration. The kubelet listens on the bridge's gateway address, its node
 * address (it refuses loopback ones). Anonymous requests are allowed so the token-only API server
 * (no client certificate for kubelets) can fetch logs and exec; node.ts keeps pods from reaching
 * that port.
 */
export function kubeletConfig(settings: KubeletSettings): string {
  return `${JSON.stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // The machines mount cgroup v1; kubelet >= 1.35 refuses it unless told otherwise.
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    containerRuntimeEndpoint: `unix://${settings.containerdSocket}`,
    address: network.gateway,
    port: settings.port,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: settings.healthzPort,
    authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
    authorization: { mode: 'AlwaysAllow' },
    clusterDomain: 'cluster.local',
    clusterDNS: [network.gateway],
    podLogsDir: settings.podLogsDir,
    volumePluginDir: settings.volumePluginDir,
    failSwapOn: false,
    registerWithTaints: [realNodeTaint],
    serializeImagePulls: false,
    // A shared development disk fills up for reasons of its own: don't evict test pods over it.
    evictionHard: { 'memory.available': '50Mi', 'nodefs.available': '1%', 'nodefs.inodesFree': '1%', 'imagefs.available': '1%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    // Mounted config files and secrets reach running pods sooner.
    syncFrequency: '10s',
  }, null, 2)}\n`;
}

export interface CorefileSettings {
  readonly kubeconfig: string;
  readonly healthPort: number;
  readonly readyPort: number;
}

/** Cluster DNS on the bridge's gateway address, answering from the API server. */
export function corefile(settings: CorefileSettings): string {
  return `.:53 {
  bind ${network.gateway}
  errors
  health 127.0.0.1:${settings.healthPort}
  ready 127.0.0.1:${settings.readyPort}
  kubernetes cluster.local in-addr.arpa ip6.arpa {
    kubeconfig ${settings.kubeconfig} testbed
    pods insecure
    fallthrough in-addr.arpa ip6.arpa
  }
  forward . /etc/resolv.conf
  cache 5
  loop
}
`;
}
