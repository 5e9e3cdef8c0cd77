# The aku image: the init container of the StatefulSet copies /opt/aku into a
# shared volume, and the Altibase container runs aku-start (postStart) and
# aku-end (preStop) from there. The binaries use cgo (unixODBC) and find the
# driver manager shipped beside them through their rpath ($ORIGIN/../lib), so
# the Altibase image needs nothing but its own ODBC driver.
#
#   docker build -t aku:latest .
FROM golang:1.26-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends unixodbc-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=1 go build -trimpath \
      -ldflags "-X github.com/aku-k8s/aku/cmd/internal/cli.version=${VERSION} -X github.com/aku-k8s/aku/cmd/internal/cli.commit=${COMMIT} -extldflags '-Wl,-rpath,\$ORIGIN/../lib'" \
      -o /out/bin/ ./cmd/aku ./cmd/aku-start ./cmd/aku-end \
 && mkdir -p /out/lib \
 && cp -L /usr/lib/x86_64-linux-gnu/libodbc.so.2 /usr/lib/x86_64-linux-gnu/libltdl.so.7 /out/lib/

FROM debian:bookworm-slim
COPY --from=build /out/ /opt/aku/
ENV PATH=/opt/aku/bin:$PATH
ENTRYPOINT ["/opt/aku/bin/aku"]
