# The refund gateway image: compiled to dist/ in a build stage, run by plain node as a non-root user.
# The same image runs the Stripe emulator (command `node dist/emulator/main.js`), as docker-compose.yml does.

# Pinned to Node 20 on Debian 12, the runtime the project is tested on (package.json engines: >=20.19).
FROM node:20-bookworm-slim AS build
WORKDIR /app
# Dependencies first, so source edits do not invalidate the npm ci layer.
COPY package.json package-lock.json ./
# No install scripts: the only package with one (esbuild, via tsx) is not needed to compile or to run dist/.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# tsc does not copy non-TS files; migrations.ts reads its SQL from ./migrations next to the compiled module.
RUN npm run build \
 && cp -R src/ledger/migrations dist/ledger/migrations

FROM node:20-bookworm-slim AS runtime
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force
COPY --from=build /app/dist ./dist
# The node user (uid 1000) comes with the base image; nothing under /app needs to be writable at run time
# (PGlite keeps its data in memory unless PGLITE_DIR points at a mounted volume).
USER node
ENV PORT=3000
EXPOSE 3000
# slim has no curl: node's own fetch checks liveness. Three misses 10 s apart leave a slow start (PGlite's initdb
# takes seconds) 30 s before "unhealthy", so no --start-period (which dockerfilelint 1.8 misreads as "--start").
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node directly as PID 1 (no npm wrapper), so SIGTERM reaches close-with-grace and the gateway drains.
CMD ["node", "dist/server.js"]
