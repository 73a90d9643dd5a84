#!/usr/bin/env bash
# The benchmark's own dependencies from Debian: rsyslog with its Elasticsearch output, for
# the side-by-side run. Installed when missing and we are root; otherwise a hint.
set -euo pipefail
if command -v rsyslogd >/dev/null && [ -e /usr/lib/x86_64-linux-gnu/rsyslog/omelasticsearch.so ] || ls /usr/lib/*/rsyslog/omelasticsearch.so >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing rsyslog and rsyslog-elasticsearch for the comparison run …" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rsyslog rsyslog-elasticsearch >/dev/null
else
  echo "note: apt-get install rsyslog rsyslog-elasticsearch to include rsyslog in the comparison" >&2
fi
