import { describe, expect, it } from 'vitest';
import { basicAuthorization, credentialsFromDockerConfig, parseChallenge, tokenUrl } from '../../../src/cluster/registry-auth.js';

describe('registry challenges', () => {
  it('read Bearer and Basic challenges, quoted values with commas included', () => {
    expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/a:pull,push"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/a:pull,push' },
    });
    expect(parseChallenge('Basic realm="diploid \\"test\\""')).toEqual({ scheme: 'basic', params: { realm: 'diploid "test"' } });
    expect(parseChallenge('Negotiate').scheme).toBe('other');
  });

  it('ask the realm for the service and the scope the challenge names, or the one asked for', () => {
    const challenge = parseChallenge('Bearer realm="https://auth.example/token?x=1",service="reg"');
    expect(tokenUrl(challenge, 'repository:shop/web:pull').toString()).toBe('https://auth.example/token?x=1&service=reg&scope=repository%3Ashop%2Fweb%3Apull');
    expect(() => tokenUrl(parseChallenge('Bearer service="reg"'), 's')).toThrow('names no realm');
  });

  it('take credentials from a Docker config: auth or username/password, host without scheme or path', () => {
    const config = JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: Buffer.from('me:pa:ss').toString('base64') },
        'registry.example:5000': { username: 'bot', password: 't0ken' },
        'empty.example': {},
      },
    });
    expect(credentialsFromDockerConfig(config)).toEqual({
      'index.docker.io': { username: 'me', password: 'pa:ss' },
      'registry.example:5000': { username: 'bot', password: 't0ken' },
    });
    expect(basicAuthorization({ username: 'a', password: 'b' })).toBe(`Basic ${Buffer.from('a:b').toString('base64')}`);
  });
});
