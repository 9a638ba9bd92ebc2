import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { ResolvedProbe } from '../../resolve/model.js';

export function probe(resolved: ResolvedProbe | undefined): IProbe | undefined {
  if (resolved === undefined) return undefined;
  const { check } = resolved;
  const result: IProbe = {};
  switch (check.kind) {
    case 'http':
      result.httpGet = { path: check.path, port: check.port.name, scheme: check.scheme };
      if (check.headers.length > 0) result.httpGet.httpHeaders = check.headers.map((header) => ({ name: header.name, value: header.value }));
      break;
    case 'tcp':
      result.tcpSocket = { port: check.port.name };
      break;
    case 'grpc':
      result.grpc = check.service === undefined ? { port: check.port.port } : { port: check.port.port, service: check.service };
      break;
    case 'exec':
      result.exec = { command: [...check.command] };
      break;
  }
  if (resolved.initialDelay !== undefined) result.initialDelaySeconds = resolved.initialDelay;
  if (resolved.period !== undefined) result.periodSeconds = resolved.period;
  if (resolved.timeout !== undefined) result.timeoutSeconds = resolved.timeout;
  if (resolved.failureThreshold !== undefined) result.failureThreshold = resolved.failureThreshold;
  return result;
}
