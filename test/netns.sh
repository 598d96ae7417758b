#!/usr/bin/env bash
# Runs a command inside a private network namespace: loopback up plus a veth
# pair with a 10.x address and a default route, so headless Chromium offers a
# host ICE candidate (it never offers loopback) and no packet leaves the
# namespace. Tests find the address in HUSHCAST_TEST_IP.
#   test/netns.sh CMD [ARGS...]
set -euo pipefail
if [ "${HUSHCAST_IN_NETNS:-}" = 1 ]; then exec "$@"; fi
if [ "$(id -u)" = 0 ]; then flags=(-n); else flags=(-r -n); fi
export HUSHCAST_IN_NETNS=1 HUSHCAST_TEST_IP=10.203.0.1
exec unshare "${flags[@]}" bash -c '
  set -e
  ip link set lo up
  ip link add hc0 type veth peer name hc1
  ip addr add 10.203.0.1/24 dev hc0
  ip addr add 10.203.0.2/24 dev hc1
  ip link set hc0 up
  ip link set hc1 up
  ip route add default via 10.203.0.2 dev hc0 2>/dev/null || true
  exec "$@"' netns "$@"
