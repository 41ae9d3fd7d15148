# syntax=docker/dockerfile:1
# CPU image: one image runs the API (default) or a worker (`docker run IMAGE worker`).
# Models are not baked in: workers resolve RERANK_MODELS through the Hugging Face cache at HF_HOME,
# so mount a volume there to keep pulled models across restarts.

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
# Only package manifests and the lockfile leave this stage, so the `npm ci` layer below is reused
# until dependencies change, not rebuilt on every source edit.
RUN mkdir /out \
 && find . -name package.json -not -path '*/node_modules/*' -exec cp --parents {} /out \; \
 && cp package-lock.json .npmrc /out/

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY --from=manifests /out/ ./
# .npmrc skips onnxruntime-node's download step: its CPU binaries ship inside the npm package.
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY bin bin
COPY libs libs
COPY apps apps
COPY infra/docker infra/docker
RUN npx tsc -b && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HF_HOME=/models/hf
WORKDIR /app
# A numeric UID lets Kubernetes verify runAsNonRoot; 1000 is the base image's `node` user.
RUN mkdir -p /models/hf && chown -R 1000:1000 /models
COPY --from=build /app /app
USER 1000:1000
EXPOSE 8080 9464
# Liveness of the API; the worker has no HTTP API, so compose and Kubernetes give it its own probe.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "infra/docker/http-probe.mjs"]
ENTRYPOINT ["node", "bin/rerank-pool.js"]
CMD ["api"]
