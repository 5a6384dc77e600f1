# The operator image for Docker users (`docker build -t agent-sandbox/operator:0.1.0 .`). The project
# itself builds the same layout without Docker or a registry: `./dev npm run image` (scripts/image.sh),
# reproducibly, as an OCI archive. The tests build this file, unchanged, with buildah
# (scripts/dockerfile-build.sh: its base images made locally) and run the operator it holds.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund --ignore-scripts && npm run build

FROM debian:bookworm-slim
COPY --from=build /usr/local/bin/node /usr/local/bin/node
COPY --from=build /src/dist/operator.mjs /src/dist/operator.mjs.LEGAL.txt /src/dist/extproc.mjs /src/dist/extproc.mjs.LEGAL.txt /app/
# wsproxy runs from the same image: node /app/wsproxy.mjs (the chart sets its page folder).
COPY --from=build /src/dist/wsproxy.mjs /src/dist/wsproxy.mjs.LEGAL.txt /app/
COPY --from=build /src/dist/wsproxy-page /app/wsproxy-page
RUN echo 'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >>/etc/passwd \
  && echo 'nonroot:x:65532:' >>/etc/group
ENV NODE_ENV=production
WORKDIR /app
EXPOSE 8080 8081 8082 8090 9003
# Node itself handles SIGTERM (the operator releases its Lease and drains); read-only root
# filesystem friendly: nothing is written outside /tmp.
USER 65532:65532
# The cross-cluster extproc ships in the same image: node /app/extproc.mjs (chart: crossCluster).
ENTRYPOINT ["/usr/local/bin/node", "/app/operator.mjs"]
