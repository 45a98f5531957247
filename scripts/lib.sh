# Shared by scripts/run and scripts/test: everything they need, installed by themselves.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "Need root (or sudo) to run: $*" >&2; return 1; fi
}

apt_install() {
  echo "Installing Debian packages: $*" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# ensure_venv [extra]: a virtualenv with the portal installed (with extras, e.g. "test"), reinstalled
# only when pyproject.toml changes.
ensure_venv() {
  local extra="${1:-}" spec="$ROOT" stamp
  [ -n "$extra" ] && spec="$ROOT[$extra]"
  if [ ! -x "$VENV/bin/python" ]; then
    # Debian's python3 keeps venv's pip bootstrap in a separate package.
    python3 -m venv "$VENV" 2>/dev/null || { rm -rf "$VENV"; apt_install python3-venv; python3 -m venv "$VENV"; }
  fi
  stamp="$VENV/.installed-$(cat "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)-${extra:-base}"
  if [ ! -f "$stamp" ]; then
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$spec"
    touch "$stamp"
  fi
}

# ensure_vnu: the Nu Html Checker for the e2e page checks: Debian's Java if there is none, and the vnu-jar
# npm package (pinned) in the git-ignored .tools/vnu.
VNU_VERSION=26.9.27
ensure_vnu() {
  command -v java >/dev/null || apt_install default-jre-headless
  if [ ! -f "$ROOT/.tools/vnu/node_modules/vnu-jar/build/dist/vnu.jar" ] \
     || ! grep -q "\"version\": \"$VNU_VERSION\"" "$ROOT/.tools/vnu/node_modules/vnu-jar/package.json"; then
    command -v npm >/dev/null || apt_install npm
    mkdir -p "$ROOT/.tools/vnu"
    npm install --prefix "$ROOT/.tools/vnu" --no-audit --no-fund --no-save --ignore-scripts "vnu-jar@$VNU_VERSION" >/dev/null
  fi
}
