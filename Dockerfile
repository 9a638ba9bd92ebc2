# diploid's own image: what `diploid init` runs as the controller (`diploid controller ...`).
# Build it and push it to a registry your cluster pulls from, then install with
#   diploid init --image <registry>/diploid:<tag>
# (README: "diploid's own image"). Needs BuildKit (`buildctl`, or `docker build` on Docker 23+, or
# with DOCKER_BUILDKIT=1 before): the npm step uses RUN --mount. No build arguments.

# Build stage: dependencies from the lockfile, then the TypeScript sources compiled into dist/
# and the CLI bundled into dist/bundle/ (what bin/diploid.js runs: `npm run build`), then the dev
# dependencies dropped again. Needs the npm registry.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# No install scripts: no production dependency needs one, and tsc needs none. Behind a proxy that
# re-signs TLS, hand its CA in as the build secret `extra_ca` (`--secret id=extra_ca,src=ca.crt`):
# it is trusted for this step only and is in no layer.
RUN --mount=type=secret,id=extra_ca --mount=type=cache,target=/root/.npm \
    if [ -s /run/secrets/extra_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/extra_ca; fi; \
    npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/bundle.mjs ./scripts/bundle.mjs
RUN npx tsc -p tsconfig.build.json && node scripts/bundle.mjs && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# Runtime: Node 20 and git (the controller reads repos with `git fetch` and `git cat-file --batch`).
# Installed first, so a code change reuses this layer.
FROM node:20-bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && groupadd --gid 10001 diploid \
 && useradd --uid 10001 --gid diploid --no-create-home --home-dir /tmp --shell /usr/sbin/nologin diploid
WORKDIR /app
COPY --from=build /src/package.json ./package.json
# The production dependencies stay: the bundle holds the CLI's code, but `render` and `validate`
# load kubernetes-models' schema classes by computed name, and the evaluation sandbox (tsc's
# output in dist/, a process of its own) loads sucrase for TypeScript files.
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY bin ./bin
# Runs as non-root with a read-only root file system (the Deployment `init` writes says so too):
# git's home and scratch files go to /tmp, the git mirrors to /var/cache/diploid (both volumes).
ENV NODE_ENV=production HOME=/tmp DIPLOID_CACHE=/var/cache/diploid
USER 10001:10001
ENTRYPOINT ["node", "/app/bin/diploid.js"]
CMD ["controller"]
