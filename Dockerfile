# syntax=docker/dockerfile:1
#
# One image for every process of the hub: the gateway, each subgraph and the one-shot seed. The image holds the
# whole workspace; the process is chosen by the command (see docker-compose.yml), e.g.
#   docker run --init -e ... -e MEMBERS_PORT=4001 -e HEALTH_PORT=4001 <image> node --require tsx/cjs subgraphs/members/src/index.ts
# The default command runs the gateway.
#
# Adding a subgraph changes nothing here: the build copies every workspace's package.json it finds.
#
# TypeScript runs directly with tsx (a devDependency), so the full `npm ci` — dev dependencies included — is
# what ships. Each process is one `node --require tsx/cjs`: tsx's CommonJS hook compiles in the main thread, where
# the `tsx` command would add a parent process and `--import tsx` a loader thread (about 50 MiB each, measured).
# The only build step bundles the browser apps (explorer, console) the gateway serves.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- base: Node 20 + npm 11 (the lockfile was written by npm 11) ----------------------------------------------
FROM ${NODE_IMAGE} AS base
RUN npm install --global npm@11 && npm cache clean --force
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
WORKDIR /app

# ---- manifests: only what `npm ci` reads, so the dependency layer is rebuilt only when they change ------------
FROM base AS manifests
WORKDIR /src
COPY . .
# The lockfile and every workspace's package.json (packages/*, subgraphs/*, gateway), each at its own path.
RUN mkdir /manifests && cp package-lock.json /manifests/ \
 && find . -name node_modules -prune -o -name package.json -print \
    | while read -r manifest; do install -D -m 0644 "$manifest" "/manifests/$manifest"; done

# ---- build: dependencies, then the sources -------------------------------------------------------------------
FROM base AS build
# mongodb-memory-server (a dependency of @bank-hub/shared, used only when MONGODB_URI is unset: local runs and
# tests) would otherwise download a ~100 MB mongod binary in its postinstall. Containers always set MONGODB_URI.
ENV MONGOMS_DISABLE_POSTINSTALL=1
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm npm ci
# Then the sources (.dockerignore keeps out node_modules, .git, tools/ — the Java/Maven test tooling — and .env),
# and what the gateway serves to browsers: the explorer and the console, bundled into web/dist/.
COPY . .
RUN npm run build

# ---- runtime ---------------------------------------------------------------------------------------------------
FROM base AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PATH=/app/node_modules/.bin:$PATH \
    HEALTH_PORT=4000
# Owned by root and only readable by the `node` user: the processes never write to /app (tsx caches in /tmp).
COPY --from=build /app /app
USER node
EXPOSE 4000
# Liveness of whichever process runs: set HEALTH_PORT to the port it listens on (GATEWAY_PORT, MEMBERS_PORT, ...).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.HEALTH_PORT + '/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--require", "tsx/cjs", "gateway/src/index.ts"]
