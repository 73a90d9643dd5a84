# One image for the StackLens programs (agent, collector, stacklens); the command picks one.
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
COPY rules rules
RUN npm ci --no-audit --no-fund && npx tsc -b && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /app /app
USER node
ENV NODE_ENV=production
ENTRYPOINT ["node"]
CMD ["collector/dist/cli.js", "--help"]
