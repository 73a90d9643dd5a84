# The stacklens CLI image (demo simulators, `stacklens rules test`); the collector and the
# agent have their own images: collector/Dockerfile, agent/Dockerfile.
# Multi-stage: build with dev dependencies, run with production ones, as a non-root user.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY common common
COPY elasticsearch elasticsearch
COPY detection detection
COPY agent agent
COPY collector collector
COPY demo demo
COPY cli cli
COPY test/fakes test/fakes
COPY rules rules
RUN npm ci --no-audit --no-fund && npx tsc -b && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build --chown=node:node /app /app
# The demo's log directory, owned by the unprivileged user the simulators run as.
RUN mkdir -p /logs && chown node:node /logs
USER node
ENV NODE_ENV=production
ENTRYPOINT ["node", "cli/dist/cli.js"]
CMD ["--help"]
