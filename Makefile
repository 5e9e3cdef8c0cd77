# aku: the Altibase Kubernetes Utility.
# `make test` and `make demo` install what they need (Debian packages, tools) by themselves.

GO        ?= go
BIN       := bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
PKG       := github.com/aku-k8s/aku
LDFLAGS   := -X $(PKG)/cmd/internal/cli.version=$(VERSION) -X $(PKG)/cmd/internal/cli.commit=$(COMMIT)
DEBS      := unixodbc-dev odbc-postgresql
# make dist (unixODBC from Debian's source package: dpkg-source, autoreconf) and make rootfs (debootstrap).
DEBS      += dpkg-dev autoconf automake libtool gettext make binutils debootstrap
# make node-images (the simulator linked statically: libodbc.a needs libltdl.a).
DEBS      += libltdl-dev
# The real node of the e2e tests (TestRealNode, make demo-cluster): container
# runtime and CNI plugins. See docs/real-node.md.
DEBS      += containerd runc containernetworking-plugins iproute2
STATICCHECK_VERSION := v0.8.2
TOOLS     := $(CURDIR)/$(BIN)/tools

.PHONY: all help build image node-images test unit lint fmt deps bench demo demo-cluster fuzz clean controlplane helm dist rootfs

all: build

## help: this list.
help:
	@awk '/^## / { sub(/^## /, ""); split($$0, a, ": "); printf "  %-14s %s\n", a[1], substr($$0, length(a[1]) + 3) }' $(MAKEFILE_LIST)

## deps: install the Debian packages the build and tests need (cgo ODBC headers, psqlODBC), idempotently.
deps:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

## build: aku (one multi-call binary; aku-start and aku-end are links to it) and the simulator into bin/.
build: deps
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...
	ln -sf aku $(BIN)/aku-start
	ln -sf aku $(BIN)/aku-end

## test: every test (unit, simulator, ODBC integration under the race detector, and the e2e module on a real control plane and a real node).
test: deps controlplane helm dist rootfs node-images
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...
	cd tools/mkimage && $(GO) vet ./... && $(GO) test -count=1 ./...
	cd e2e && $(GO) vet ./... && $(GO) test -count=1 -timeout 40m ./...

## unit: the root module's tests under the race detector, without building the binaries (-short); no control plane.
unit: deps
	$(GO) test -race -short -count=1 -timeout 30m ./...

## controlplane: build (once, then cached in ~/.cache/aku; cold about 11-25 min) etcd, kube-apiserver and kube-controller-manager for the e2e tests.
controlplane:
	bash e2e/controlplane/build.sh

## dist: the portable install tree dist/aku (bin/aku, aku-start and aku-end links, lib/libodbc.so.2) for glibc 2.17 and later; zig and unixODBC cached in ~/.cache/aku (cold about 5 min, then seconds). See docs/portable-binaries.md.
dist: deps
	GO='$(GO)' GO_LDFLAGS='$(LDFLAGS)' bash build/dist.sh $(CURDIR)/dist/aku

## rootfs: the Debian 11 root filesystem (glibc 2.31, psqlODBC, no driver manager) e2e/portable runs dist/aku in; cached in ~/.cache/aku (cold 1-2 min). Needs root.
rootfs: deps
	bash build/rootfs.sh

# Helm for the chart test (e2e/chart_test.go looks for it at $(HELM)), built
# from the Go module proxy with the release's version stamps (as helm's own
# Makefile does: client-go v0.37 means Kubernetes 1.37 for .Capabilities).
HELM_VERSION := v3.22.0
HELM_K8S     := 1.37
AKU_CACHE    ?= $(HOME)/.cache/aku
HELM_DIR     := $(AKU_CACHE)/helm-$(HELM_VERSION)
HELM         := $(HELM_DIR)/helm
HELM_LDFLAGS := -s -w -X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) \
	-X helm.sh/helm/v3/internal/version.gitTreeState=clean \
	-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=$(word 1,$(subst ., ,$(HELM_K8S))) \
	-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$(word 2,$(subst ., ,$(HELM_K8S))) \
	-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=$(word 1,$(subst ., ,$(HELM_K8S))) \
	-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$(word 2,$(subst ., ,$(HELM_K8S)))

## helm: build helm (HELM_VERSION, v3.22.0) from the Go module proxy once into ~/.cache/aku/helm-<version>/ (cold about 7 min, then cached), then lint the chart.
helm: $(HELM)
	$(HELM) lint --strict manifests/chart/aku

# Installed into a private directory, then renamed into place: a concurrent or
# interrupted build never leaves a partial $(HELM).
$(HELM):
	mkdir -p $(HELM_DIR)
	tmp=$$(mktemp -d $(HELM_DIR)/.build.XXXXXX) && \
	GOBIN=$$tmp CGO_ENABLED=0 $(GO) install -ldflags "$(HELM_LDFLAGS)" helm.sh/helm/v3/cmd/helm@$(HELM_VERSION) && \
	mv $$tmp/helm $(HELM) && rmdir $$tmp || { rm -rf $$tmp; exit 1; }

# The aku image: the install tree at /opt/aku plus, in a layer of its own,
# the C runtime aku needs to run in the init container (the loader and the
# libraries ldd finds outside the tree). Reproducible: times are the commit's.
IMAGE  ?= aku:$(VERSION)
SOURCE ?= https://github.com/aku-k8s/aku

# $(call mkimage-aku,OUT,TAG) writes the aku image under the name TAG.
mkimage-aku = cd tools/mkimage && $(GO) run . --tree $(CURDIR)/dist/aku --out $(1) \
		--tag $(2) --version $(VERSION) --commit $(COMMIT) --source $(SOURCE) \
		--created $$(git log -1 --format=%ct 2>/dev/null || echo 0) \
		$$(ldd $(CURDIR)/dist/aku/bin/aku | awk '$$2 == "=>" && $$3 ~ /^\// && $$3 !~ /dist\/aku\// {print "--runtime", $$3} $$1 ~ /^\/.*ld-linux/ {print "--runtime", $$1}')

## image: the aku image as an OCI archive, dist/aku-image.tar (ctr images import, docker load); no container engine needed.
image: dist
	$(call mkimage-aku,$(CURDIR)/dist/aku-image.tar,$(IMAGE))
	@ls -l dist/aku-image.tar

# The real-node e2e tests' images, under names with a registry host
# (aku.local/...), which containerd keeps as they are (a bare "pause:e2e"
# would become docker.io/library/pause:e2e).
## node-images: the images the real-node e2e tests import into containerd (ctr -n k8s.io images import), in dist/images: aku.tar (aku.local/aku:e2e, make image's), pause.tar (aku.local/pause:e2e, the pod sandbox), altibase-sim.tar (aku.local/altibase-sim:e2e, the Debian 11 root filesystem plus the simulator); no container engine needed; the last two are rebuilt only when their inputs changed.
node-images: image rootfs
	@mkdir -p dist/images
	$(call mkimage-aku,$(CURDIR)/dist/images/aku.tar,aku.local/aku:e2e)
	GO='$(GO)' bash build/node-images.sh $(CURDIR)/dist/images
	@ls -l dist/images/*.tar

## demo: three simulated Altibase pods scaled up and down with aku, with aku plan before a start and an end and aku status after each step.
demo: build
	$(GO) run ./cmd/internal/demo --bin $(BIN)

## demo-cluster: the shipped manifests on a real single-node cluster (containerd, kubelet, scheduler, CoreDNS): scale 1 -> 3 -> 1 while writing, with the pods' progress, the hooks' logs, events and replication state; tears down (cold: the node's parts and images take 20-35 min on 2 cores, then about 2 min). Needs root.
demo-cluster: deps controlplane node-images
	cd e2e && AKU_DEMO_CLUSTER=1 $(GO) test -count=1 -run '^TestDemoCluster$$' -v -timeout 60m .

## bench: aku side by side with the original's sequence (4 simulated pods, realistic latency, BENCH_RUNS runs), bin/aku's peak RSS, the simulator's speed; writes docs/bench/report.md and timeline.svg (about 12 min).
BENCH_RUNS ?= 6
BENCH_OUT  ?= $(CURDIR)/docs/bench
bench: build
	AKU_BENCH_RUNS=$(BENCH_RUNS) AKU_BENCH_OUT=$(BENCH_OUT) AKU_BENCH_BIN=$(CURDIR)/$(BIN)/aku \
	AKU_BENCH_DIST=$(CURDIR)/dist/aku AKU_BENCH_VERSION=$(VERSION) \
		$(GO) test -run '^$$' -bench '^BenchmarkSpeed$$' -benchtime 1x -timeout 40m ./cmd/internal/scenarios
	$(GO) test -run '^$$' -bench . -benchmem -timeout 10m ./altibase/...

## fuzz: run the aku.conf parser fuzzer for FUZZTIME (default 2m).
FUZZTIME ?= 2m
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./lifecycle/config/

$(TOOLS)/staticcheck:
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

## lint: gofmt -l, go vet, staticcheck (installed into bin/tools) and go mod tidy -diff in each module (root, e2e, tools/mkimage).
lint: deps $(TOOLS)/staticcheck
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted (make fmt)"; exit 1; fi
	$(GO) vet ./...
	$(TOOLS)/staticcheck ./...
	$(GO) mod tidy -diff
	cd e2e && $(GO) vet ./... && $(TOOLS)/staticcheck ./... && $(GO) mod tidy -diff
	cd tools/mkimage && $(GO) vet ./... && $(TOOLS)/staticcheck ./... && $(GO) mod tidy -diff

## fmt: gofmt the tree.
fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf $(BIN) dist
