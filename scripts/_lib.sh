# Shared by scripts/run and scripts/test: find Python 3.11, get uv, sync the locked environment.
# Only Debian packages and PyPI are used; uv never downloads an interpreter (UV_PYTHON_DOWNLOADS=never).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export UV_PYTHON_DOWNLOADS=never
UV_VERSION="0.13.9"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

APT_UPDATED=""
apt_install() {
  command -v apt-get >/dev/null || { echo "cần cài / please install: $*" >&2; return 1; }
  if [ -z "$APT_UPDATED" ]; then as_root apt-get update -qq && APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

find_python() {
  for candidate in "${PYTHON:-}" python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      PY="$("$candidate" -c 'import sys; print(sys.executable)')"; return 0
    fi
  done
  echo "ebhxh cần Python 3.11 / ebhxh needs Python 3.11 (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

ensure_uv() {
  if command -v uv >/dev/null && [ "$(uv --version | cut -d' ' -f2)" = "$UV_VERSION" ]; then UV="$(command -v uv)"; return; fi
  UV="$ROOT/var/tools/bin/uv"
  [ -x "$UV" ] && return
  say "Cài uv $UV_VERSION / installing uv $UV_VERSION"
  mkdir -p var
  if ! "$PY" -m venv var/tools >/dev/null 2>&1; then
    rm -rf var/tools
    apt_install python3-venv python3.11-venv || apt_install python3-venv
    "$PY" -m venv var/tools
  fi
  var/tools/bin/python -m pip install -q --disable-pip-version-check "uv==$UV_VERSION"
}

ensure_env() {
  find_python
  ensure_uv
  say "Đồng bộ môi trường Python / syncing the Python environment (.venv)"
  if [ -x .venv/bin/python ] && .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
    # Reuse the existing environment: naming another path of the same interpreter would make uv rebuild it.
    "$UV" sync --frozen --quiet
  else
    "$UV" sync --frozen --python "$PY" --quiet
  fi
  export PATH="$ROOT/.venv/bin:$PATH"
}
