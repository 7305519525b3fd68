# syntax=docker/dockerfile:1
# Node 24 is the current LTS line. The runtime image holds compiled JavaScript and production dependencies
# only: no TypeScript, no tsx, no dev tooling.

# ---- build: compile TypeScript to dist/ and the web console to web/dist/ ----
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY client/package.json ./client/
COPY web/package.json ./web/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build
# The console imports the typed client (client/) and the service's permission table (src/auth/policy.ts).
COPY client ./client
COPY web ./web
RUN npm run build:web

# ---- production dependencies only (the client and web workspaces are not part of the service) ----
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY client/package.json ./client/
COPY web/package.json ./web/
RUN npm ci --omit=dev --workspaces=false --include-workspace-root --no-audit --no-fund

# ---- runtime: non-root, compiled code, migrations ----
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=8000 \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# The console, served at / (static files only: its build tools stay in the build stage).
COPY --from=build --chown=node:node /app/web/dist ./web/dist
COPY --chown=node:node package.json ./
COPY --chown=node:node migrations ./migrations
# ./data holds the embedded database (and nothing else in production) when DATABASE_URL is unset: a volume,
# so the data outlives the container.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]
USER node
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM reaches node directly (exec form): in-flight requests finish, the pool closes, exit 0.
CMD ["node", "dist/server.js"]
