#!/bin/bash
# runner-migrate: mint the GitLab chart's bundled runner and hand its authentication token to it.
#
# Runs in a copy of the chart's toolbox pod (its image, Rails config and Secrets), as a service
# account that may only get and patch the runner's Secret and Deployment. Each step says what it
# waits on:
#   1. reach the Kubernetes API, the runner's Secret (made by the chart's shared-secrets hook job)
#      and the runner's Deployment
#   2. wait until Rails reaches its database and the database is migrated (/scripts/wait-for-deps)
#   3. find the runner by the marker its description ends with, or create it (gitlab-rails runner
#      mint-runner.rb); reset its token when the Secret does not hold it
#   4. write the token into runner-token of the Secret (runner-registration-token stays)
#   5. restart the runner Deployment once: its pod template gets a digest of the token
# The token never reaches a log or a command line: Rails prints it into this script's memory through
# a pipe, and curl sends it to the API server from its stdin.
set -u
umask 077

: "${RUNNER_MIGRATE_SECRET:?}" "${RUNNER_MIGRATE_WORKLOAD:?}" "${RUNNER_MIGRATE_MARKER:?}"
# Where the toolbox image and the pod keep things (tests point them elsewhere).
serviceaccount=${RUNNER_MIGRATE_SERVICEACCOUNT_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}
wait_for_deps=${RUNNER_MIGRATE_WAIT_FOR_DEPS:-/scripts/wait-for-deps}
mint_rb=${RUNNER_MIGRATE_MINT_RB:-$(dirname "$0")/mint-runner.rb}
poll=${RUNNER_MIGRATE_POLL_SECONDS:-10}
host=${KUBERNETES_SERVICE_HOST:?the pod has no KUBERNETES_SERVICE_HOST}
case $host in *:*) host="[$host]" ;; esac
api="https://$host:${KUBERNETES_SERVICE_PORT:-443}"
namespace=$(<"$serviceaccount/namespace")
secret_path="/api/v1/namespaces/$namespace/secrets/$RUNNER_MIGRATE_SECRET"
workload_path="/apis/apps/v1/namespaces/$namespace/$RUNNER_MIGRATE_WORKLOAD"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

log() { printf '%s runner-migrate: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

# request METHOD PATH [CONTENT-TYPE]: one call to the API server, with the body (if any) on stdin.
# Sets status (the HTTP status; 000 when the server was not reached) and body (the answer).
request() {
  local method=$1 path=$2 type=${3:-} out
  local args=(--silent --show-error --max-time 30 --cacert "$serviceaccount/ca.crt" --header "@$work/auth"
    --request "$method" --write-out '\n%{http_code}')
  if [ -n "$type" ]; then
    args+=(--header "Content-Type: $type" --data-binary @-)
  fi
  # The service account token rotates: read it for every call, into a header file (not argv).
  printf 'Authorization: Bearer %s\n' "$(<"$serviceaccount/token")" >"$work/auth"
  if ! out=$(curl "${args[@]}" "$api$path" 2>"$work/curl.err"); then
    status=000
    body=$(<"$work/curl.err")
    return 1
  fi
  status=${out##*$'\n'}
  body=${out%$'\n'*}
  [ "${status:0:1}" = 2 ]
}

# message is the API server's explanation in a Status answer (never a Secret's data). The API server
# indents its JSON for curl.
message() {
  local pattern='"message":[[:space:]]*"([^"]*)"'
  [[ $body =~ $pattern ]] && printf '%s' "${BASH_REMATCH[1]}"
}

# get NAME PATH WHAT: reads an object, waiting while the API server or the object is not there yet.
get() {
  local name=$1 path=$2 what=$3
  until request GET "$path"; do
    case $status in
    000) log "waiting for the Kubernetes API at $api: $body" ;;
    404) log "waiting for $name ($what)" ;;
    401 | 403)
      log "the service account may not read $name: HTTP $status: $(message)"
      exit 1
      ;;
    *) log "reading $name: HTTP $status: $(message); trying again" ;;
    esac
    sleep "$poll"
  done
}

log "step 1/5: reach Secret $RUNNER_MIGRATE_SECRET and $RUNNER_MIGRATE_WORKLOAD in namespace $namespace"
get "Secret $RUNNER_MIGRATE_SECRET" "$secret_path" "the GitLab chart's shared-secrets job creates it"
get "$RUNNER_MIGRATE_WORKLOAD" "$workload_path" "the runner the token is for"

log "step 2/5: wait until Rails reaches its database and the database is migrated"
if [ -x "$wait_for_deps" ]; then
  until "$wait_for_deps" >"$work/deps.log" 2>&1; do
    log "waiting for the database and the migrations Job: $(tail -n 1 "$work/deps.log")"
    sleep "$poll"
  done
else
  log "$wait_for_deps is not in this image; Rails checks the migrations itself"
fi

log "step 3/5: find or create runner \"$RUNNER_MIGRATE_MARKER\" (gitlab-rails runner)"
while :; do
  get "Secret $RUNNER_MIGRATE_SECRET" "$secret_path" "the GitLab chart's shared-secrets job creates it"
  out=$(printf '%s' "$body" | gitlab-rails runner "$mint_rb")
  rc=$?
  result="" patch="" rest=$out
  while [ -n "$rest" ]; do
    line=${rest%%$'\n'*}
    if [ "$line" = "$rest" ]; then rest=""; else rest=${rest#*$'\n'}; fi
    case $line in
    "runner-migrate-result "*) result=${line#runner-migrate-result } ;;
    "runner-migrate-secret-patch "*) patch=${line#runner-migrate-secret-patch } ;;
    runner-migrate-*) log "gitlab-rails: a result line this script does not know (not shown)" ;;
    ?*) log "gitlab-rails: $line" ;;
    esac
  done
  case $rc in
  0) break ;;
  75) sleep "$poll" ;; # not ready yet; mint-runner.rb said why
  *)
    log "gitlab-rails runner failed (exit $rc)"
    exit 1
    ;;
  esac
done
read -r state runner_id digest <<<"$result"
if [ -z "${digest:-}" ]; then
  log "gitlab-rails runner gave no result"
  exit 1
fi

if [ -n "$patch" ]; then
  log "step 4/5: write the token of runner $runner_id ($state) into runner-token of Secret $RUNNER_MIGRATE_SECRET"
  if ! request PATCH "$secret_path" application/merge-patch+json < <(printf '%s' "$patch"); then
    log "writing Secret $RUNNER_MIGRATE_SECRET failed: HTTP $status"
    exit 1
  fi
else
  log "step 4/5: Secret $RUNNER_MIGRATE_SECRET already holds the token of runner $runner_id ($state)"
fi

log "step 5/5: restart $RUNNER_MIGRATE_WORKLOAD once, so its pods register with the token"
get "$RUNNER_MIGRATE_WORKLOAD" "$workload_path" "the runner the token is for"
carries_digest='"runner-migrate\.io/token-digest":[[:space:]]*"'"$digest"'"'
if [[ $body =~ $carries_digest ]]; then
  log "$RUNNER_MIGRATE_WORKLOAD already runs with this token; not restarted"
else
  restart="{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"runner-migrate.io/token-digest\":\"$digest\"}}}}}"
  if ! request PATCH "$workload_path" application/strategic-merge-patch+json < <(printf '%s' "$restart"); then
    log "restarting $RUNNER_MIGRATE_WORKLOAD failed: HTTP $status: $(message)"
    exit 1
  fi
  log "restarted $RUNNER_MIGRATE_WORKLOAD"
fi
log "done: the runner registers with the authentication token of GitLab runner $runner_id"
