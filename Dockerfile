# The worker image. Sources run through tsx (a runtime dependency), so there is no separate build step
# and stack traces point at the TypeScript files.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY scripts/build-workflow-bundle.ts ./scripts/
# The workflow bundle is built once here: workers start without webpack, and every replica runs
# byte-identical workflow code (VAO_WORKFLOW_BUNDLE in docker-compose.yml points at it).
RUN node --import tsx scripts/build-workflow-bundle.ts dist/workflow-bundle.js
USER node
# node itself is PID 1's child via tini-like --init from compose; run node directly (not npm) so SIGTERM
# reaches the worker, which drains in-flight activities before exiting.
# 4 MB V8 semi-spaces keep the worker's peak memory down (docs/operations.md).
CMD ["node", "--max-semi-space-size=4", "--import", "tsx", "src/main.ts"]
