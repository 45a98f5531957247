#!/usr/bin/env bash
# Rebuild the portal's committed front-end assets in static/ from frontend/.
# Needs node + npm; the portal itself never does. Output is deterministic:
# running this twice gives byte-identical files.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATIC="$ROOT/static"
cd "$ROOT/frontend"

npm ci --no-audit --no-fund --ignore-scripts

mkdir -p "$STATIC/licences"

# CSS: GOV.UK Frontend subset + portal rules, system fonts, no source map.
./node_modules/.bin/sass --no-source-map --style=compressed --load-path=node_modules \
  portal.scss "$STATIC/portal.min.css"

# JS: portal entry (imports govuk.mjs), one self-contained ES module.
./node_modules/.bin/esbuild main.mjs --bundle --format=esm --minify --target=es2020 \
  --legal-comments=none --log-level=warning --outfile="$STATIC/portal.min.js"

# htmx, verbatim.
cp node_modules/htmx.org/dist/htmx.min.js "$STATIC/htmx.min.js"

# Licences. The govuk-frontend npm package ships no licence file, so its MIT
# text is kept committed in static/licences/; check it is still there.
cp node_modules/htmx.org/LICENSE "$STATIC/licences/htmx-LICENSE.txt"
test -s "$STATIC/licences/govuk-frontend-LICENSE.txt" \
  || { echo "missing static/licences/govuk-frontend-LICENSE.txt" >&2; exit 1; }

# Guard: no GDS Transport font in the CSS.
if grep -q -e '@font-face' -e 'GDS Transport' "$STATIC/portal.min.css"; then
  echo "portal.min.css contains @font-face / GDS Transport" >&2
  exit 1
fi

echo "gzip -9 sizes (bytes):"
for f in portal.min.css portal.min.js htmx.min.js favicon.svg; do
  [ -f "$STATIC/$f" ] || continue
  printf '  %-16s %7d raw %7d gzip\n' "$f" "$(wc -c < "$STATIC/$f")" "$(gzip -9c "$STATIC/$f" | wc -c)"
done
