#!/usr/bin/env bash
# make demo: the post-renderer on built-in defaults. Renders the newest fixture runner chart with a
# legacy registration token through the real Helm 3, once plainly and once with runner-migrate as the
# post-renderer, and shows what changed. The token is a made-up demo value.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(hack/tools.sh helm3)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HELM_DATA_HOME=$work/helm/data HELM_CONFIG_HOME=$work/helm/config HELM_CACHE_HOME=$work/helm/cache
export RUNNER_MIGRATE_AUTH_TOKEN=${RUNNER_MIGRATE_AUTH_TOKEN:-glrt-demoTokenNotARealOne0000}

chart=testdata/charts/gitlab-runner-0.86.0
values=testdata/values/legacy.yaml
echo "== helm template demo $chart -f $values --post-renderer bin/runner-migrate"
"$HELM3" template demo "$chart" -f "$values" -n demo >"$work/before.yaml"
"$HELM3" template demo "$chart" -f "$values" -n demo --post-renderer bin/runner-migrate >"$work/after.yaml"
diff -u --label plain-render --label post-rendered "$work/before.yaml" "$work/after.yaml" || true

echo
echo "== without a token, the same render fails loudly and prints nothing on stdout:"
if RUNNER_MIGRATE_AUTH_TOKEN= "$HELM3" template demo "$chart" -f "$values" -n demo --post-renderer bin/runner-migrate >"$work/none.yaml"; then
  echo "unexpected success" >&2
  exit 1
fi
echo "(stdout: $(wc -c <"$work/none.yaml") bytes)"
