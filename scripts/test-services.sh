#!/usr/bin/env bash
# Bring up what the tests need: PostgreSQL on 127.0.0.1:5432 with a `test` database (trust auth
# for local connections), and the Dovecot binary for the IMAP tests. Installs with apt when
# missing and we are root; otherwise says exactly what is missing.
set -u
need_apt=()
have_pg() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if ! command -v pg_ctlcluster >/dev/null 2>&1 && ! command -v pg_isready >/dev/null 2>&1; then
  need_apt+=(postgresql)
fi
if ! command -v dovecot >/dev/null 2>&1 && [ ! -x /usr/sbin/dovecot ]; then
  need_apt+=(dovecot-imapd)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "services: installing ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq "${need_apt[@]}" >/dev/null \
      || { echo "services: apt-get install ${need_apt[*]} failed"; exit 1; }
    # we run our own Dovecot per test; the system daemon is not needed
    if command -v systemctl >/dev/null; then systemctl disable --now dovecot >/dev/null 2>&1 || true; fi
    pkill -x dovecot >/dev/null 2>&1 || true
  else
    echo "services: missing ${need_apt[*]}; install them (e.g. sudo apt-get install ${need_apt[*]})"
    exit 1
  fi
fi

if ! have_pg; then
  if command -v pg_ctlcluster >/dev/null; then
    ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
    if [ -z "$ver" ]; then
      ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
      pg_createcluster "$ver" main >/dev/null
    fi
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null || pg_ctlcluster "$ver" main start
    for _ in $(seq 1 30); do have_pg && break; sleep 1; done
  fi
fi
have_pg || { echo "services: PostgreSQL is not accepting connections on 127.0.0.1:5432"; exit 1; }

psql_as() { if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then su postgres -c "psql -qAt -h /var/run/postgresql $*"; else psql -qAt -h 127.0.0.1 -U postgres "$@"; fi; }
if ! psql -qAt -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1; then
  ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
  hba=/etc/postgresql/$ver/main/pg_hba.conf
  if [ -n "$ver" ] && [ -w "$hba" ] && ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main reload 2>/dev/null || pg_ctlcluster "$ver" main reload
  fi
  psql_as "-d postgres -c \"CREATE DATABASE test\"" >/dev/null 2>&1 || true
fi
psql -qAt -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1 \
  || { echo "services: cannot connect as postgres to database test on 127.0.0.1 (trust auth)"; exit 1; }
echo "services: PostgreSQL ready on 127.0.0.1:5432/test; dovecot $(command -v dovecot || echo /usr/sbin/dovecot)"
