# syntax=docker/dockerfile:1
# Runtime Hub image. One image serves every role; APP_ROLE (all | api | worker) picks what a container runs.
#   docker build --build-arg GIT_COMMIT="$(git rev-parse HEAD)" -t runtime-hub .

ARG NODE_IMAGE=node:20-bookworm-slim

# Install scripts of some dependencies phone home unless told not to; a build must not.
FROM ${NODE_IMAGE} AS base
ENV SCARF_ANALYTICS=false \
    DISABLE_OPENCOLLECTIVE=true \
    ADBLOCK=true \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
WORKDIR /app

# Every dependency, dev ones included: the TypeScript build needs them.
FROM base AS deps
COPY package.json package-lock.json ./
# `npm install` honours the lock file; `npm ci` would refuse it for lacking other platforms' optional binaries.
RUN npm install --no-audit --no-fund

FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY console ./console
COPY scripts/build-console.ts ./scripts/
RUN npm run build

# Production dependencies only, installed apart so the runtime stage copies no compiler or test tooling.
FROM base AS prod-deps
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ARG GIT_COMMIT=
# HOST=0.0.0.0 because the hub's loopback default would be unreachable from outside the container.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    BLOB_DIR=/data/blobs \
    GIT_COMMIT=${GIT_COMMIT}
WORKDIR /app
# Code stays owned by root and read-only to the process; only the blob directory is writable.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN mkdir -p /data/blobs && chown node:node /data/blobs
USER node
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/main.js"]
