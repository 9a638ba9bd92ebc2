import { describe, expect, it } from 'vitest';
import { ApplyError } from '../../../src/cluster/apply.js';
import { AddonNotReadyError } from '../../../src/cluster/addons-apply.js';
import { ClusterSecretError } from '../../../src/cluster/clusters.js';
import { blockedBy, ClusterAddonsError } from '../../../src/controller/addons-hook.js';
import { classifyError } from '../../../src/controller/errors.js';

describe('what the environments of a cluster whose add-ons failed fail with', () => {
  it('an add-on the cluster refused: AddonsFailed, retried (the fix comes on the default branch), naming the cluster and the add-on', () => {
    const error = blockedBy('prod', new ApplyError('Thing ns/one', 'the server could not find the requested resource', [], 404));
    expect(error).toBeInstanceOf(ClusterAddonsError);
    expect(classifyError(error)).toMatchObject({ retryable: true, reason: 'AddonsFailed' });
    expect(error.message).toMatch(/^add-ons of cluster prod failed, so its environments wait for them: .*Thing ns\/one/);
  });

  it('an add-on not ready in time, or a cluster not answering: AddonsNotReady; home is named as the controller\'s own cluster', () => {
    const error = blockedBy(undefined, new AddonNotReadyError('add-ons not Available after 300s: Deployment x/y: not Available'));
    expect(classifyError(error)).toMatchObject({ retryable: true, reason: 'AddonsNotReady' });
    expect(error.message).toMatch(/^add-ons of the controller's own cluster failed/);
    expect(classifyError(blockedBy('edge', new Error('connect ECONNREFUSED')))).toMatchObject({ retryable: true, reason: 'AddonsNotReady' });
  });

  it('a cluster Secret that is missing or unusable keeps its own reason and message (they name the cluster and the Secret, never its content)', () => {
    const secret = new ClusterSecretError('ClusterSecretMissing', 'prod', 'cluster prod: Secret diploid-system/kc does not exist');
    expect(blockedBy('prod', secret)).toBe(secret);
    expect(classifyError(blockedBy('prod', secret))).toMatchObject({ retryable: true, reason: 'ClusterSecretMissing' });
  });
});
