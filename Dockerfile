# syntax=docker/dockerfile:1

# cellbot's image: a static binary on distroless, run as a non-root user. It needs a
# Redis: docker-compose.yml runs one beside it and sets REDIS_URL. (The image has no
# redis-server, so without REDIS_URL the bot stops and says how to get one.)

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a code change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO off: a static binary for distroless/static. The time zone database is compiled in
# (package config imports time/tzdata), CA certificates come with the base image.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/cellbot ./cmd/cellbot

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cellbot /usr/local/bin/cellbot
# Listen on every interface inside the container: the webhook, /healthz and /metrics are
# reached through the published port.
ENV CELLBOT_HTTP_ADDR=0.0.0.0:8080
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/cellbot"]
