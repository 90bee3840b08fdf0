# syntax=docker/dockerfile:1

# ---- build stage ------------------------------------------------------------
FROM golang:1.26 AS build
WORKDIR /src

COPY . .

# The module and build caches live in BuildKit cache mounts, so rebuilds after a
# source change only recompile what changed and never re-download modules.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/custom-gpt-adapter .

# ---- runtime stage ----------------------------------------------------------
# Empty base image: only the static binary, CA certificates (outbound HTTPS to
# the memory bank) and time zone data. No shell, so the compose healthcheck runs
# the binary's own `healthcheck` subcommand.
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /usr/share/zoneinfo /usr/share/zoneinfo
COPY --from=build /out/custom-gpt-adapter /custom-gpt-adapter
# 65532 is the conventional "nonroot" uid/gid of distroless images.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/custom-gpt-adapter"]
CMD ["serve"]
