#!/bin/sh
# Install and update hook of both runner-migrate Helm plugins (Helm 3 and 4): makes sure
# $HELM_PLUGIN_DIR/bin/runner-migrate is the binary of this plugin version and source. Nothing is
# downloaded (locked-down hosts cannot): a release tarball (make dist) carries the binary; a checkout
# of the source gets it built with the local Go toolchain.
#
# The binary is current when `runner-migrate version` reports the version in plugin.yaml and, when
# the source is here, the source's git commit (a checkout with uncommitted changes is always rebuilt,
# which Go's build cache keeps cheap). Helm 4 runs hooks with only HELM_PLUGIN_NAME and HELM_PLUGIN_DIR
# of its settings, so nothing else from Helm is used.
set -eu

say() { printf 'runner-migrate: %s\n' "$*"; }
die() {
	printf 'runner-migrate: %s\n' "$*" >&2
	exit 1
}

[ -n "${HELM_PLUGIN_DIR:-}" ] || die "HELM_PLUGIN_DIR is not set: this is the plugin's install hook, run by helm plugin install and helm plugin update"
name=${HELM_PLUGIN_NAME:-runner-migrate}
# Helm installs a local directory as a symlink to it: work where it points.
plugin_dir=$(cd -P -- "$HELM_PLUGIN_DIR" && pwd)
want=$(sed -n 's/^version:[[:space:]]*"\{0,1\}\([^"[:space:]]*\).*/\1/p' "$plugin_dir/plugin.yaml" | head -n 1)
[ -n "$want" ] || die "no version in $plugin_dir/plugin.yaml"

exe=
case $(uname -s) in CYGWIN* | MINGW* | MSYS*) exe=.exe ;; esac
bin=$plugin_dir/bin/runner-migrate$exe

# The module root: the plugin directory itself (the CLI plugin is the repository root) or two up
# (plugins/runner-migrate-postrender). A plugin installed from a release tarball has none.
root=
for dir in "$plugin_dir" "$plugin_dir/../.."; do
	if [ -f "$dir/go.mod" ] && grep -q '^module github.com/runner-migrate/runner-migrate$' "$dir/go.mod"; then
		root=$(cd -P -- "$dir" && pwd)
		break
	fi
done

commit=
if [ -n "$root" ] && command -v git >/dev/null 2>&1 && [ "$(git -C "$root" rev-parse --show-toplevel 2>/dev/null)" = "$root" ]; then
	commit=$(git -C "$root" rev-parse HEAD)
	if [ -n "$(git -C "$root" status --porcelain)" ]; then
		commit=$commit-dirty
	fi
fi

have_version='' have_commit=''
if [ -x "$bin" ]; then
	# HELM_BIN empty: no need for the Helm version here.
	info=$(HELM_BIN='' "$bin" version </dev/null 2>/dev/null) || info=
	have_version=$(printf '%s\n' "$info" | sed -n 's/^version: //p')
	have_commit=$(printf '%s\n' "$info" | sed -n 's/^commit: //p')
fi

if [ ! -x "$bin" ]; then
	reason="$bin is missing"
elif [ "$have_version" != "$want" ]; then
	reason="$bin is version ${have_version:-unknown}, not $want"
elif [ -z "$root" ]; then
	say "$bin is version $want (commit $have_commit): nothing to build"
	exit 0
elif [ -z "$commit" ]; then
	reason="the source in $root is not a git checkout, so nothing tells whether $bin was built from it"
elif [ "${commit%-dirty}" != "$commit" ]; then
	reason="the source in $root has uncommitted changes"
elif [ "$have_commit" != "$commit" ]; then
	reason="$bin was built from commit $have_commit, the source is at $commit"
else
	say "$bin is current (version $want, commit $commit)"
	exit 0
fi

reinstall="helm plugin uninstall $name && helm plugin install $plugin_dir"
if [ -z "$root" ]; then
	die "$reason, and there is no source here to build it from. Install the release tarball of version $want for this OS and architecture (it carries the binary), or the plugin from a checkout of the source."
fi
if ! command -v go >/dev/null 2>&1; then
	die "Go is not installed (no go in PATH), and it is needed to build the binary from the source in $root: $reason. Install Go 1.26 or later (https://go.dev/dl/) and run: $reinstall. Or, on a host without Go, install the release tarball for this OS and architecture, which carries the binary (README: Install)."
fi

say "building $bin with $(go version) ($reason)"
mkdir -p "$plugin_dir/bin"
tmp=$bin.tmp.$$
# -buildvcs=false: the commit comes from above; Go's own VCS stamping fails in checkouts owned by
# another user.
# Static (CGO_ENABLED=0), as make build and make dist build it: no dynamic loader at every start.
if ! (cd "$root" && CGO_ENABLED=0 go build -buildvcs=false -ldflags "-X main.version=$want -X main.commit=${commit:-unknown}" -o "$tmp" ./cmd/runner-migrate); then
	rm -f "$tmp"
	die "building the binary failed (above). Where the Go module proxy cannot be reached, set GOPROXY to a mirror, or fill the module cache first (go mod download, with the same go.sum, on a host that can reach one); then run: $reinstall"
fi
mv -f "$tmp" "$bin"
say "built $bin (version $want, commit ${commit:-unknown})"
