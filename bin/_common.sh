# Shared by bin/start and bin/test: everything a fresh machine needs, done only when missing.
# shellcheck shell=bash

PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$PROJECT_ROOT/.venv"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  say "Installing Debian packages: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1 || {
    as_root apt-get update -q >/dev/null 2>&1
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
  }
}

ensure_venv() {
  local python="${PYTHON:-python3}"
  if [ ! -x "$VENV/bin/python" ]; then
    say "Creating the virtual environment in .venv"
    "$python" -m venv "$VENV" || { apt_install python3-venv; "$python" -m venv "$VENV"; }
  fi
  local stamp="$VENV/.installed"
  if [ ! -f "$stamp" ] || [ "$PROJECT_ROOT/pyproject.toml" -nt "$stamp" ]; then
    say "Installing the project and its dependencies"
    mkdir -p "$PROJECT_ROOT/instance"
    local log="$PROJECT_ROOT/instance/pip-install.log"
    if ! "$VENV/bin/python" -m pip install -e "$PROJECT_ROOT[dev]" >"$log" 2>&1; then
      tail -30 "$log" >&2; echo "installation failed; the whole log is in $log" >&2; exit 1
    fi
    touch "$stamp"
  fi
  export PATH="$VENV/bin:$PATH"
}

redis_answers() {
  "$VENV/bin/python" - "$1" <<'PY' >/dev/null 2>&1
import sys, redis
redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1).ping()
PY
}

ensure_redis_binary() {
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
}

ensure_redis() {
  ensure_redis_binary
  if redis_answers "$REDIS_URL"; then return; fi
  local port
  port="$("$VENV/bin/python" -c "from urllib.parse import urlsplit; import sys; print(urlsplit(sys.argv[1]).port or 6379)" "$REDIS_URL")"
  say "Starting redis-server on port $port"
  mkdir -p "$PROJECT_ROOT/instance/redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
    --dir "$PROJECT_ROOT/instance/redis" --logfile "$PROJECT_ROOT/instance/redis/redis.log"
  for _ in $(seq 50); do redis_answers "$REDIS_URL" && return; sleep 0.1; done
  echo "redis-server did not start; see instance/redis/redis.log" >&2
  exit 1
}

postgres_answers() {
  "$VENV/bin/python" - <<'PY' >/dev/null 2>&1
import psycopg
psycopg.connect("host=/var/run/postgresql dbname=postgres", connect_timeout=2).close()
PY
}

ensure_postgres() {
  if postgres_answers; then return; fi
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then apt_install postgresql; fi
  local version
  version="$(ls /etc/postgresql | sort -V | tail -1)"
  say "Starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
  for _ in $(seq 50); do pg_isready -q 2>/dev/null && break; sleep 0.2; done
  if ! postgres_answers; then
    # A fresh cluster only knows the postgres role: give the current user a superuser role (peer auth).
    as_root su postgres -c "psql -q -c \"CREATE ROLE \\\"$(id -un)\\\" SUPERUSER LOGIN\"" || true
  fi
  postgres_answers || { echo "PostgreSQL does not answer on /var/run/postgresql" >&2; exit 1; }
}

ensure_chromium() {
  [ -x /usr/bin/chromium ] || apt_install chromium
}

prepare_app() {
  say "Applying migrations and compiling message catalogs"
  (cd "$PROJECT_ROOT" && flask --app portal i18n compile >/dev/null && flask --app portal db upgrade 2>&1 | grep -v "^INFO" || true)
}
