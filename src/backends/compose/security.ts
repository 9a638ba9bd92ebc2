import type { ResolvedService } from '../../resolve/model.js';
import type { ComposeContext } from './context.js';
import type { ComposeService } from './types.js';

type SecurityFields = Pick<ComposeService, 'user' | 'read_only' | 'cap_drop' | 'cap_add' | 'security_opt'>;

/** Locked down: read-only root, no capabilities but those named, no privilege escalation. */
export function hardened(capabilities: readonly string[]): SecurityFields {
  return {
    read_only: true,
    cap_drop: ['ALL'],
    ...(capabilities.length > 0 ? { cap_add: [...capabilities] } : {}),
    security_opt: ['no-new-privileges:true'],
  };
}

/**
 * The service's security settings. Docker has no "must not be root" check and no fsGroup:
 * without a user id the image's own USER applies, and volumes keep the owner the image gives.
 */
export function securityOf(context: ComposeContext, service: ResolvedService): SecurityFields {
  const { security } = service;
  const fields: SecurityFields = {};
  if (security.runAsUser !== undefined) {
    fields.user = security.runAsGroup === undefined ? String(security.runAsUser) : `${security.runAsUser}:${security.runAsGroup}`;
  } else {
    if (security.runAsNonRoot) context.warn(service.name, 'security', "running as non-root is not enforced by docker; the image's USER applies (set security.runAsUser to pin a user)");
    if (security.runAsGroup !== undefined) context.warn(service.name, 'security.runAsGroup', `compose sets a group only with a user; group ${security.runAsGroup} is left out (set security.runAsUser too)`);
  }
  if (security.fsGroup !== undefined) context.warn(service.name, 'security.fsGroup', `docker has no fsGroup; volumes are not handed to group ${security.fsGroup}, they keep the owner the image gives them`);
  if (security.readOnlyRootFilesystem) fields.read_only = true;
  fields.cap_drop = ['ALL'];
  if (security.addCapabilities.length > 0) fields.cap_add = [...security.addCapabilities];
  if (!security.allowPrivilegeEscalation) fields.security_opt = ['no-new-privileges:true'];
  return fields;
}
