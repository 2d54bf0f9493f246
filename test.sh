#!/usr/bin/env bash
# test.sh: install what gopaste's tests need (when missing), start the
# services they use, and run the whole suite with the race detector.
# Runs unattended as root on a fresh Debian machine with Go (this is what
# CI runs); as another user it only installs when sudo works without a
# password.
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the interop tests and benchmarks talk to.
packages=(
  nginx apache2 apache2-utils
  uwsgi-core uwsgi-plugin-python3
  php8.2-fpm php8.2-cli
  libfcgi-bin fcgiwrap spawn-fcgi libscgi-perl
  python3-paste python3-pastedeploy python3-flask python3-django
  python3-pyramid python3-bottle python3-venv gunicorn
  wrk redis-server postgresql
  caddy  # bench: the Go peer of issue 15
  chromium fonts-dejavu-core
  systemd  # systemd-analyze verify checks docs/deploy.md's units
)

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]}"
  # apt must not start the services it installs: tests start their own.
  # A policy-rc.d this script creates is removed once apt is done, or on
  # any exit before that; one that was already there is left alone.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    trap 'as_root rm -f "$policy"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod +x "$policy"
    created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
  if [ -n "${created_policy:-}" ]; then
    as_root rm -f "$policy"
    trap - EXIT INT TERM
  fi
fi

# PostgreSQL (127.0.0.1:5432, trust auth, database test) and Redis
# (127.0.0.1:6379): started when they are not answering.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "test.sh: starting PostgreSQL"
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! psql -h 127.0.0.1 -U postgres -d test -Atc 'select 1' >/dev/null 2>&1; then
  psql -h 127.0.0.1 -U postgres -Atc 'create database test' >/dev/null 2>&1 || true
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "test.sh: starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi

# The goapp skeleton's test builds a generated module offline
# (GOPROXY=off) against this checkout: the go.mod of every module in the
# graph must be in the module cache, which building gopaste alone does not
# fetch (modules whose go.mod predates graph pruning pull in their whole
# graph).
go list -m all >/dev/null

go vet ./...
exec go test -race -count=1 -timeout 40m ./... "$@"
