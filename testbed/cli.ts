/**
 * `scripts/testbed up|down|status|env|build`: a real Kubernetes control plane (with kwok as its
 * kubelet), an image registry and a git server on loopback, for tests and the demo.
 */
import { down, envLines, status, up } from './bed.js';
import { runBuild } from './build.js';
import { binDir, defaultStateDir } from './config.js';
import { ensureControllerImage } from './controller-image.js';
import { ensurePodGateway } from './pod-gateway.js';

const usage = `usage: scripts/testbed <command>

  build   build the binaries that are missing from the cache (${binDir()})
  up      build if needed, then start the bed in ${defaultStateDir()} (DIPLOID_TESTBED_DIR)
  status  check each part; exits 1 unless all are healthy
  env     print shell exports: eval "$(scripts/testbed env)"
  gateway start the pod gateway on a running bed that predates it (up starts it)
  image   build diploid's own image (the Dockerfile) into the bed's registry; prints its reference
  down    stop exactly the processes 'up' started and remove the state folder
`;

const log = (message: string): void => {
  process.stderr.write(`[testbed] ${message}\n`);
};

async function main(argv: readonly string[]): Promise<number> {
  const command = argv[0];
  const stateDir = defaultStateDir();
  switch (command) {
    case 'build':
      await runBuild();
      return 0;
    case 'up': {
      const { state, alreadyUp } = await up({ stateDir, log });
      if (alreadyUp) log(`already up in ${stateDir}`);
      const problems = Object.entries(state.problems);
      for (const [part, problem] of problems) {
        log(`!!! ${part.toUpperCase()} IS NOT AVAILABLE: ${problem}`);
      }
      process.stdout.write(`${envLines(state).join('\n')}\n`);
      if (problems.length > 0) {
        log(`the other parts are running; 'scripts/testbed down' stops them`);
        return 1;
      }
      if (!alreadyUp) log(`up in ${((Date.now() - Date.parse(state.startedAt)) / 1000).toFixed(0)}s; eval "$(scripts/testbed env)" to use it`);
      return 0;
    }
    case 'gateway': {
      const gateway = await ensurePodGateway(stateDir, log);
      log(`pod gateway: registry ${gateway.registry}, git ${gateway.gitUrl}, API server ${gateway.apiServer}`);
      return 0;
    }
    case 'image': {
      const result = await status(stateDir);
      const registry = result.state?.registry?.host;
      if (registry === undefined) {
        log(`no registry: the bed in ${stateDir} is not up`);
        return 1;
      }
      const { image } = await ensureControllerImage({ registry, log });
      process.stdout.write(`${image}\n`);
      return 0;
    }
    case 'down':
      await down({ stateDir, log });
      log('down');
      return 0;
    case 'status': {
      const result = await status(stateDir);
      if (result.state === undefined) {
        log(`not up (no state in ${stateDir})`);
        return 1;
      }
      for (const part of result.parts) {
        process.stdout.write(`${part.ok ? 'ok  ' : 'FAIL'} ${part.part}: ${part.detail}\n`);
      }
      for (const p of result.state.processes) process.stdout.write(`     pid ${p.pid} ${p.name} (log ${p.log})\n`);
      return result.parts.every((p) => p.ok) ? 0 : 1;
    }
    case 'env': {
      const result = await status(stateDir);
      if (result.state === undefined) {
        log(`not up (no state in ${stateDir}); run scripts/testbed up`);
        return 1;
      }
      process.stdout.write(`${envLines(result.state).join('\n')}\n`);
      return 0;
    }
    default:
      process.stderr.write(usage);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`ERROR: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
