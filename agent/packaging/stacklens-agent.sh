#!/bin/sh
# stacklens-agent — runs the bundled StackLens agent (../lib/stacklens-agent.mjs) on Node.js 20
# or later. The systemd unit starts the agent through this script, so what is set here holds
# for the service too.
#
# Memory: NODE_FLAGS below is the one place the agent's Node heap limits are set (INSTALL.md,
# "Memory"). To change them without editing this file (an upgrade replaces it), set
# STACKLENS_AGENT_NODE_FLAGS, e.g. in /etc/stacklens-agent/env for the service.
NODE_FLAGS="--max-semi-space-size=2 --max-old-space-size=96"
# glibc gives each thread that allocates its own malloc arena; compression runs on the thread
# pool, so without a cap the arenas hold memory freed long ago (measured: ~5 MB of RSS).
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"

# The Node.js binary: "node" on PATH, or STACKLENS_AGENT_NODE (e.g. /opt/node-v20/bin/node).
NODE="${STACKLENS_AGENT_NODE:-node}"

self=$(readlink -f -- "$0" 2>/dev/null || printf '%s' "$0")
home=$(dirname -- "$(dirname -- "$self")")
if ! command -v "$NODE" >/dev/null 2>&1; then
  echo "stacklens-agent: Node.js not found (\"$NODE\"): install Node.js 20 or later, or set STACKLENS_AGENT_NODE to its path" >&2
  exit 127
fi
# exec: the agent is this process, so systemd's MAINPID and the signals (SIGHUP reloads,
# SIGTERM ships, commits and exits) reach it directly.
# shellcheck disable=SC2086 # the flags are a list of words
exec "$NODE" ${STACKLENS_AGENT_NODE_FLAGS:-$NODE_FLAGS} "$home/lib/stacklens-agent.mjs" "$@"
