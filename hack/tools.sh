#!/usr/bin/env bash
# Builds the real programs the end-to-end tests drive (Helm v3 and v4, kube-apiserver, etcd) from the Go
# module proxy, since no release binary can be downloaded here. Each binary is cached under TOOLS_DIR and
# built only when missing. Prints `NAME=PATH` lines that the tests and Makefile read.
#
#   hack/tools.sh [helm3|helm4|kube-apiserver|etcd|system ...]   (default: all)
set -euo pipefail

HELM3_VERSION=v3.22.0
HELM4_VERSION=v4.3.1
KUBE_VERSION=v1.36.3
ETCD_VERSION=v3.6.16
TOOLS_DIR=${RUNNER_MIGRATE_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/runner-migrate/tools}

# k8s.io/kubernetes replaces its staging modules with local paths; a consumer must pin each to a release.
KUBE_STAGING="api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api cri-client
csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms kube-aggregator
kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics mount-utils
pod-security-admission sample-apiserver sample-cli-plugin sample-controller"

log() { echo "tools.sh: $*" >&2; }

# install_to DEST: moves the freshly built $DEST.tmp into place, so an interrupted build never leaves a
# half-written binary that later runs would trust.
install_to() { chmod +x "$1.tmp" && mv -f "$1.tmp" "$1"; }

build_helm() { # MAJOR VERSION
  local major=$1 version=$2 dest="$TOOLS_DIR/helm-$2/helm"
  if [[ ! -x $dest ]]; then
    log "building Helm $version (about 6-8 minutes cold)"
    local ldflags="-X helm.sh/helm/v$major/internal/version.version=$version"
    if [[ $major == 3 ]]; then
      # A plain v3 build reports Kubernetes v1.20 to templates; pin what a release build reports.
      ldflags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=36"
    fi
    local gobin; gobin=$(mktemp -d)
    GOBIN=$gobin GOFLAGS=-mod=mod go install -ldflags "$ldflags" "helm.sh/helm/v$major/cmd/helm@$version"
    mkdir -p "$(dirname "$dest")" && mv "$gobin/helm" "$dest.tmp" && rmdir "$gobin" && install_to "$dest"
  fi
  echo "HELM${major}=$dest"
}

build_kube_apiserver() {
  local dest="$TOOLS_DIR/kube-apiserver-$KUBE_VERSION"
  if [[ ! -x $dest ]]; then
    log "building kube-apiserver $KUBE_VERSION (about 8 CPU-minutes)"
    local mod; mod=$(mktemp -d)
    (
      cd "$mod"
      go mod init runner-migrate.local/kube-apiserver >/dev/null 2>&1
      printf '//go:build tools\n\npackage tools\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver"\n' >tools.go
      go mod edit -require="k8s.io/kubernetes@$KUBE_VERSION"
      for m in $KUBE_STAGING; do go mod edit -replace="k8s.io/$m=k8s.io/$m@v0${KUBE_VERSION#v1}"; done
      go mod tidy >/dev/null
      # Without these the server reports v0.0.0-master, and Helm would hand that to templates as
      # .Capabilities.KubeVersion.
      local minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
      local pkg=k8s.io/component-base/version
      go build -ldflags "-X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean" \
        -o "$dest.tmp" k8s.io/kubernetes/cmd/kube-apiserver
    )
    rm -rf "$mod"
    install_to "$dest"
  fi
  echo "KUBE_APISERVER=$dest"
}

build_etcd() {
  local dest="$TOOLS_DIR/etcd-$ETCD_VERSION"
  if [[ ! -x $dest ]]; then
    log "building etcd $ETCD_VERSION (about 1.5 minutes)"
    local mod; mod=$(mktemp -d)
    (
      cd "$mod"
      go mod init runner-migrate.local/etcd >/dev/null 2>&1
      printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' >main.go
      go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1
      go mod tidy >/dev/null
      go build -o "$dest.tmp" .
    )
    rm -rf "$mod"
    install_to "$dest"
  fi
  echo "ETCD=$dest"
}

# system_packages makes sure the programs tests run from the system are there: Ruby (the minting Job's
# script runs against a stand-in Rails), curl and bash (the Job's shell script), GNU time (the start-up
# benchmark's resident set). Installed with apt-get when missing and this runs as root (CI); otherwise
# it says what to install.
system_packages() {
  local missing=()
  for cmd in ruby curl bash; do command -v "$cmd" >/dev/null || missing+=("$cmd"); done
  [[ -x /usr/bin/time ]] || missing+=(time)
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing ${missing[*]} with apt-get"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  else
    log "missing ${missing[*]}: install them (apt-get install ${missing[*]})"; exit 1
  fi
}

mkdir -p "$TOOLS_DIR"
# One build at a time: test binaries started together (go test ./...) all ask for the tools, and
# parallel cold builds of kube-apiserver would only compete for the same CPUs.
exec 9>"$TOOLS_DIR/.lock"
if ! flock -n 9; then
  log "another hack/tools.sh is building; waiting for it"
  flock 9
fi
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(system helm3 helm4 etcd kube-apiserver)
for t in "${targets[@]}"; do
  case $t in
    helm3) build_helm 3 "$HELM3_VERSION" ;;
    helm4) build_helm 4 "$HELM4_VERSION" ;;
    kube-apiserver) build_kube_apiserver ;;
    etcd) build_etcd ;;
    system) system_packages ;;
    *) log "unknown tool $t (want helm3, helm4, kube-apiserver, etcd or system)"; exit 2 ;;
  esac
done
