# The StackLens images, one stage each, from one build:
#   docker build --target collector -t stacklens-collector .
#   docker build --target agent     -t stacklens-agent .
#   docker build                    -t stacklens .          (the stacklens CLI: simulators, rules test)
# Multi-stage: compile with dev dependencies, run with production ones only, as the
# unprivileged "node" user.
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

FROM node:20-bookworm-slim AS runtime
WORKDIR /app
COPY --from=build --chown=node:node /app /app
ENV NODE_ENV=production

FROM runtime AS collector
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:8080/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "collector/dist/cli.js"]
CMD ["--config", "/etc/stacklens/collector.yaml"]

FROM runtime AS agent
# The registry and spool live here, and the logs it reads are mounted under /logs.
RUN mkdir -p /var/lib/stacklens-agent /logs && chown node:node /var/lib/stacklens-agent /logs
USER node
EXPOSE 9464
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:9464/metrics').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "agent/dist/cli.js"]
CMD ["--config", "/etc/stacklens/agent.yaml"]

FROM runtime AS cli
# The demo's log directory, written by the simulators.
RUN mkdir -p /logs && chown node:node /logs
USER node
ENTRYPOINT ["node", "cli/dist/cli.js"]
CMD ["--help"]
