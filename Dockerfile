# The aku image, for those with Docker (`make image` writes the same image
# as an OCI archive without a container engine): the install tree of
# `make dist` at /opt/aku, and beside it only the C runtime aku itself needs
# to run in the init container, which copies the tree into a shared volume
# (`aku install /aku`). The Altibase container then runs aku-start
# (postStart) and aku-end (preStop) from that volume with its own glibc
# (2.17 or later) and its own ODBC driver; the driver manager comes with the
# tree (lib/, found through the binary's rpath $ORIGIN/../lib). See
# docs/portable-binaries.md.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#                --build-arg COMMIT=$(git rev-parse --short HEAD) -t aku .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
# make dist installs its Debian packages, fetches Zig from the npm registry
# (with curl: the image has no npm) and builds unixODBC from Debian's source
# package, both for glibc 2.17, then the tree, and checks it.
RUN make dist VERSION="${VERSION}" COMMIT="${COMMIT}" \
 && mkdir -p /runtime \
 && ldd dist/aku/bin/aku \
    | awk '$2 == "=>" && $3 ~ /^\// && $3 !~ /dist\/aku\// {print $3} $1 ~ /^\/.*ld-linux/ {print $1}' \
    | xargs -r cp -L --parents -t /runtime

FROM scratch
ARG VERSION=dev
ARG COMMIT=unknown
LABEL org.opencontainers.image.title="aku" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.source="https://github.com/aku-k8s/aku"
COPY --from=build /runtime/ /
COPY --from=build /src/dist/aku/ /opt/aku/
USER 65532:65532
ENTRYPOINT ["/opt/aku/bin/aku"]
CMD ["install", "/aku"]
