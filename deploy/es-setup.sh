#!/usr/bin/env bash
# One-shot set-up for docker-compose.yml, run in the Elasticsearch image (it has bash and curl).
#
#   es-setup.sh elasticsearch   (the `setup` service) once Elasticsearch answers as `elastic`:
#       - sets the password of kibana_system (Kibana's own connection to Elasticsearch);
#       - creates or updates the roles in es-roles/*.json (the file name is the role name):
#         stacklens_collector (its templates, its data streams and indices) and
#         stacklens_grafana_reader (read-only);
#       - creates or updates the users stacklens_collector and stacklens_grafana with them.
#   es-setup.sh kibana          (the `kibana-setup` service) once Kibana is available:
#       imports kibana/stacklens.ndjson (data views, saved searches).
#
# Idempotent: each step sets the same state again, so it runs on every `docker compose up`.
# Passwords never go on a command line (curl reads them from a pipe) nor into its output.
#
# Environment: ELASTIC_PASSWORD (the `elastic` superuser's); for `elasticsearch` also
# KIBANA_SYSTEM_PASSWORD, STACKLENS_ES_PASSWORD, GRAFANA_ES_PASSWORD. ES_URL (default
# http://elasticsearch:9200), KIBANA_URL (http://kibana:5601), ROLES_DIR (es-roles beside
# this script), KIBANA_OBJECTS (/setup/stacklens.ndjson), WAIT_SECONDS (300).
set -euo pipefail

ES_URL=${ES_URL:-http://elasticsearch:9200}
KIBANA_URL=${KIBANA_URL:-http://kibana:5601}
ROLES_DIR=${ROLES_DIR:-$(dirname "$0")/es-roles}
KIBANA_OBJECTS=${KIBANA_OBJECTS:-/setup/stacklens.ndjson}
WAIT_SECONDS=${WAIT_SECONDS:-300}

die() { echo "es-setup: $*" >&2; exit 1; }

[[ -n ${ELASTIC_PASSWORD:-} ]] || die 'ELASTIC_PASSWORD is not set'

RESPONSE=$(mktemp)
trap 'rm -f "$RESPONSE"' EXIT

# A string as a JSON string literal (also what curl's config file expects between quotes).
quote() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  printf '"%s"' "$s"
}

# call METHOD URL [curl options…]: as `elastic`; sets STATUS, leaves the body in $RESPONSE.
call() {
  local method=$1 url=$2
  shift 2
  STATUS=$(curl -sS -o "$RESPONSE" -w '%{http_code}' -K <(printf 'user = %s\n' "$(quote "elastic:$ELASTIC_PASSWORD")") -X "$method" "$@" "$url") || STATUS=000
}

# es METHOD PATH [curl options…]: an Elasticsearch API call that must answer 2xx.
es() {
  local method=$1 path=$2
  shift 2
  call "$method" "$ES_URL$path" -H 'Content-Type: application/json' "$@"
  [[ $STATUS == 2?? ]] || die "$method $path: HTTP $STATUS: $(head -c 600 "$RESPONSE")"
}

# wait_for WHAT URL: until URL answers 200 as `elastic`; a 401 ends it at once.
wait_for() {
  local what=$1 url=$2 deadline=$((SECONDS + WAIT_SECONDS))
  while :; do
    call GET "$url" 2>/dev/null
    [[ $STATUS == 200 ]] && return 0
    [[ $STATUS == 401 ]] && die "$what refuses the elastic user's password: ELASTIC_PASSWORD differs from the one Elasticsearch was first started with (it keeps that one in its data volume)"
    ((SECONDS < deadline)) || die "$what at $url not ready after ${WAIT_SECONDS}s (last answer: HTTP $STATUS)"
    sleep 2
  done
}

# user NAME PASSWORD_VARIABLE ROLE: create or update a native user (its password from the variable).
user() {
  local name=$1 var=$2 role=$3
  local password=${!var:-}
  [[ -n $password ]] || die "$var is not set"
  ((${#password} >= 6)) || die "$var must be at least 6 characters (Elasticsearch's minimum)"
  printf '{"password":%s,"roles":[%s],"full_name":%s}' "$(quote "$password")" "$(quote "$role")" "$(quote "StackLens $name")" |
    es PUT "/_security/user/$name" --data-binary @-
  echo "es-setup: user $name (role $role)"
}

setup_elasticsearch() {
  [[ -n ${KIBANA_SYSTEM_PASSWORD:-} ]] || die 'KIBANA_SYSTEM_PASSWORD is not set'
  wait_for Elasticsearch "$ES_URL/_cluster/health?wait_for_status=yellow&timeout=5s"

  printf '{"password":%s}' "$(quote "$KIBANA_SYSTEM_PASSWORD")" | es POST /_security/user/kibana_system/_password --data-binary @-
  echo 'es-setup: kibana_system password set'

  local file role found=0
  for file in "$ROLES_DIR"/*.json; do
    [[ -e $file ]] || continue
    role=$(basename "$file" .json)
    es PUT "/_security/role/$role" --data-binary "@$file"
    echo "es-setup: role $role"
    found=1
  done
  ((found)) || die "no role files in $ROLES_DIR"

  # Least privilege: each program its own user and role (deploy/es-roles/*.json).
  user stacklens_collector STACKLENS_ES_PASSWORD stacklens_collector
  user stacklens_grafana GRAFANA_ES_PASSWORD stacklens_grafana_reader
  echo 'es-setup: done'
}

setup_kibana() {
  [[ -f $KIBANA_OBJECTS ]] || die "$KIBANA_OBJECTS not found"
  wait_for Kibana "$KIBANA_URL/api/status"
  call POST "$KIBANA_URL/api/saved_objects/_import?overwrite=true" -H 'kbn-xsrf: true' --form "file=@$KIBANA_OBJECTS"
  [[ $STATUS == 200 ]] && grep -q '"success":true' "$RESPONSE" || die "importing $KIBANA_OBJECTS: HTTP $STATUS: $(head -c 600 "$RESPONSE")"
  echo "es-setup: Kibana objects imported from $KIBANA_OBJECTS"
}

case ${1:-elasticsearch} in
  elasticsearch) setup_elasticsearch ;;
  kibana) setup_kibana ;;
  *) die "usage: $0 [elasticsearch|kibana]" ;;
esac
