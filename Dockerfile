# Hansewiki container image: `docker build -t hansewiki .`
# CI does not build this file (no Docker on the CI machines); see README,
# "Running with Docker Compose".

# ---- build -------------------------------------------------------------
# The Go of go.mod exactly (the image sets GOTOOLCHAIN=local).
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
# Modules first, so a code change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Templates, static files, translations, migrations and the demo content
# are embedded: the binary is all the runtime image needs. CGO off: a
# static binary for the distroless base.
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/hansewiki ./cmd/hansewiki

# ---- runtime -----------------------------------------------------------
# distroless/static: CA certificates (SMTP over TLS, Meilisearch over
# https) and time zone data, no shell, no package manager; the :nonroot
# tag runs as uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hansewiki /hansewiki
USER nonroot:nonroot
ENV HANSEWIKI_ADDR=:8080
EXPOSE 8080
# DATABASE_URL is required here: the image has no PostgreSQL binaries for
# the private cluster that `serve` starts without it. Compose and
# orchestrators probe GET /healthz (process up) and GET /readyz (database
# reachable); the image carries no HTTP client for a HEALTHCHECK.
ENTRYPOINT ["/hansewiki"]
CMD ["serve"]
