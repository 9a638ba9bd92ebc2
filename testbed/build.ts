/** Makes sure the bed's binaries are built, running build.sh only when some are missing. */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Binary, binDir, binaries, imagesDir, kwokStagesDir, readVersions, testbedDir } from './config.js';

/** The binaries whose cached build is missing or was made from other versions. */
export function missingBinaries(): Binary[] {
  const versions = readVersions();
  const expected = (name: Binary): string => {
    if (name === 'etcd') return versions.ETCD_VERSION;
    if (name === 'kwok') return versions.KWOK_VERSION;
    if (name === 'containerd' || name === 'containerd-shim-runc-v2' || name === 'ctr') return versions.CONTAINERD_VERSION;
    if (name === 'crane') return versions.CRANE_VERSION;
    if (name === 'crictl') return versions.CRICTL_VERSION;
    if (name === 'coredns') return versions.COREDNS_VERSION;
    if (name === 'pause') return '1';
    if (name === 'traefik') return versions.TRAEFIK_VERSION;
    return versions.K8S_VERSION;
  };
  const missing = binaries.filter((name) => {
    const stamp = join(binDir(), `.${name}.stamp`);
    if (!existsSync(join(binDir(), name)) || !existsSync(stamp)) return true;
    // build.sh writes "<name> <version> ..."; the Go version doesn't matter once built.
    const [stampName, stampVersion] = readFileSync(stamp, 'utf8').trim().split(/\s+/);
    return stampName !== name || stampVersion !== expected(name);
  });
  // kwok's stage files come with its build.
  if (!existsSync(kwokStagesDir()) && !missing.includes('kwok')) missing.push('kwok');
  return missing;
}

/** True when build.sh has made the image layers from the current images.sh (same key as build.sh). */
export function imagesBuilt(): boolean {
  const stamp = join(imagesDir(), '.stamp');
  if (!existsSync(stamp)) return false;
  const recipe = createHash('sha256').update(readFileSync(join(testbedDir, 'images.sh'))).digest('hex').slice(0, 16);
  return readFileSync(stamp, 'utf8').trim() === `images ${recipe}`;
}

/**
 * Runs testbed/build.sh, streaming its progress to stderr. A cold build takes 10-25 minutes on
 * two cores; a warm one returns at once.
 */
export function runBuild(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(testbedDir, 'build.sh')], { stdio: ['ignore', 'inherit', 'pipe'] });
    // Progress goes to our stderr as it comes; the last lines also go into the error, so a test
    // that fails for want of a cluster says why.
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      output = (output + chunk.toString('utf8')).slice(-4000);
    });
    child.on('error', (error) => reject(new Error(`cannot run build.sh: ${error.message}`)));
    child.on('close', (code) => {
      if (code === 0) {
        resolve();
        return;
      }
      const last = output.trimEnd().split('\n').slice(-15).join('\n');
      reject(new Error(`testbed/build.sh failed with exit code ${code}:\n${last}`));
    });
  });
}

/** Builds what is missing, if anything. */
export async function ensureBinaries(log: (message: string) => void): Promise<void> {
  const missing = missingBinaries();
  if (missing.length === 0 && imagesBuilt()) return;
  const what = [...missing, ...(imagesBuilt() ? [] : ['the image layers'])];
  log(`building ${what.join(', ')} (the first build takes 35-55 minutes)`);
  await runBuild();
  const still = missingBinaries();
  if (still.length > 0) throw new Error(`build.sh finished but ${still.join(', ')} still missing from ${binDir()}`);
}
