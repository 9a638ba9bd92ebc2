import type { IPodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import type { ResolvedService } from '../../resolve/model.js';

/** The user helper steps run as: `nobody`, so the pod's non-root rule holds for them too. */
const UTILITY_USER = 65534;

export function podSecurity(service: ResolvedService): IPodSecurityContext {
  const { security } = service;
  const context: IPodSecurityContext = { runAsNonRoot: security.runAsNonRoot, seccompProfile: { type: 'RuntimeDefault' } };
  if (security.runAsUser !== undefined) context.runAsUser = security.runAsUser;
  if (security.runAsGroup !== undefined) context.runAsGroup = security.runAsGroup;
  if (security.fsGroup !== undefined) context.fsGroup = security.fsGroup;
  return context;
}

export function containerSecurity(service: ResolvedService): ISecurityContext {
  const { security } = service;
  const capabilities = security.addCapabilities.length > 0 ? { drop: ['ALL'], add: [...security.addCapabilities] } : { drop: ['ALL'] };
  return {
    allowPrivilegeEscalation: security.allowPrivilegeEscalation,
    readOnlyRootFilesystem: security.readOnlyRootFilesystem,
    capabilities,
  };
}

export function utilityContainerSecurity(): ISecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    runAsUser: UTILITY_USER,
    runAsGroup: UTILITY_USER,
    capabilities: { drop: ['ALL'] },
  };
}
