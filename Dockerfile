# The refund gateway image: compiled to dist/ in a build stage, run by plain node as a non-root user.
# The same image runs the Stripe emulator (command `node dist/emulator/main.js`), as docker-compose.yml does.

# Node 24, the current LTS, on Debian 13 (trixie). The Debian release is named, not left to the tag: plain
# `node:24-slim` follows whatever Debian the Node images default to, which moved from bookworm to trixie under it.
# package.json engines: ^20.19.0 || ^22.13.0 || >=24; the tests run on 20, 22 and 24 (docs/deployment.md).
FROM node:24-trixie-slim AS build
WORKDIR /app
# better-sqlite3 (the embedded ledger) is a native addon: where no prebuilt binary can be fetched, node-gyp builds it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# Dependencies first, so source edits do not invalidate the npm ci layer.
COPY package.json package-lock.json ./
# Install scripts run for the packages package.json's allowScripts approves (npm 11): better-sqlite3's build, esbuild's
# binary check.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/copy-assets.mjs scripts/bundle-server.mjs scripts/build-console.ts ./scripts/
# The operator console is built by the same `npm run build` into dist/console (its own packages are dev-only).
COPY console ./console
# tsc, the server bundled into one file, the console, then the SQL migrations copied beside the compiled ledger; then
# only what runs is kept.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:24-trixie-slim AS runtime
WORKDIR /app
COPY package.json package-lock.json ./
# The production node_modules of the build stage, native addon included: no compiler in the runtime image.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The embedded ledger (no DATABASE_URL) keeps its file in /app/data: mount a volume there so it outlives the
# container. With DATABASE_URL (replicas), nothing under /app is written.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]
USER node
ENV PORT=3000
EXPOSE 3000
# slim has no curl: node's own fetch checks liveness. Three misses 10 s apart give a start 30 s before "unhealthy",
# so no --start-period (which dockerfilelint 1.8 misreads as "--start").
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node directly as PID 1 (no npm wrapper), so SIGTERM reaches close-with-grace and the gateway drains.
CMD ["node", "dist/server.js"]
