#!/usr/bin/env bash
# Lighthouse 12 on the product's main pages, served by the production command (`make serve-prod`), signed out
# and signed in as the demo user. Prints performance, accessibility, best practices and SEO per page.
# Not part of `make test` (it takes minutes and needs Node); see docs/testing.md.
#
#   scripts/lighthouse.sh                 # serves on PORT (8765) with the database in DATABASE_URL (SQLite by default)
#   LIGHTHOUSE=/path/to/lighthouse scripts/lighthouse.sh
#
# Lighthouse comes from LIGHTHOUSE, else from LIGHTHOUSE_DIR (default ~/.cache/twofold-lighthouse), where
# `npm i -E lighthouse@12.2.3` is run the first time. Chromium from CHROME_PATH (default /usr/bin/chromium).
# Default mobile emulation, as Lighthouse ships it. JSON reports are left in LIGHTHOUSE_OUT (a temp dir).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${PORT:-8765}"
BASE="http://127.0.0.1:${PORT}"
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"
OUT="${LIGHTHOUSE_OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
PUBLIC_PAGES=(/ /pricing/ /guide/ /accounts/login/ /accounts/signup/)
SIGNED_IN_PAGES=(/dashboard/ /dashboard/posts/ /dashboard/profile/ /billing/ /chat/)

if [ -z "${LIGHTHOUSE:-}" ]; then
  dir="${LIGHTHOUSE_DIR:-$HOME/.cache/twofold-lighthouse}"
  if [ ! -x "$dir/node_modules/.bin/lighthouse" ]; then
    echo "Installing lighthouse@12.2.3 into $dir…" >&2
    mkdir -p "$dir" && (cd "$dir" && npm i -E --silent lighthouse@12.2.3 >/dev/null)
  fi
  LIGHTHOUSE="$dir/node_modules/.bin/lighthouse"
fi

# The production settings over plain http on 127.0.0.1, with the demo data.
export DJANGO_DEBUG=false DJANGO_SECURE_SSL_REDIRECT=false PORT
export DJANGO_SECRET_KEY="${DJANGO_SECRET_KEY:-lighthouse-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}"
export EMAIL_URL="${EMAIL_URL:-consolemail://}"
uv run --frozen python manage.py migrate --noinput -v0
uv run --frozen python manage.py seed_demo >/dev/null

# In its own process group, so that stopping it stops the server make started.
WEB_ACCESS_LOG=false setsid make -s serve-prod >"$OUT/server.log" 2>&1 &
server=$!
trap 'kill -- "-$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 240); do
  curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.5
done
curl -fsS -o /dev/null "$BASE/healthz" || { echo "The server did not start; see $OUT/server.log" >&2; exit 1; }

# A session of the demo user, made by Django itself (whatever the session engine), for the signed-in pages.
session=$(uv run --frozen python manage.py shell -v0 -c "
from django.test import Client
from accounts.models import User
client = Client()
client.force_login(User.objects.get(email='demo@example.com'))
print(client.cookies['sessionid'].value)" | tail -n 1)
cookie="{\"Cookie\": \"sessionid=${session}\"}"

audit() {  # path [extra lighthouse arguments…]
  local path="$1" name
  shift
  name=$(echo "$path" | tr '/' '_')
  "$LIGHTHOUSE" "$BASE$path" --quiet --output=json --output-path="$OUT/lh$name.json" \
    --only-categories=performance,accessibility,best-practices,seo \
    --chrome-flags="--headless --no-sandbox --disable-gpu" "$@" >/dev/null 2>&1 \
    || { printf '%-22s lighthouse failed\n' "$path"; return; }
  python3 - "$OUT/lh$name.json" "$path" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
scores = {key: round((cat["score"] or 0) * 100) for key, cat in report["categories"].items()}
print(f"{sys.argv[2]:<22}" + "".join(f"{scores[k]:>6}" for k in ("performance", "accessibility", "best-practices", "seo")))
for key, cat in report["categories"].items():
    for ref in cat["auditRefs"]:
        result = report["audits"][ref["id"]]
        if ref["weight"] and result["score"] is not None and result["score"] < 1 and key != "performance":
            print(f"{'':<22}  {key}: {result['title']}")
EOF
}

printf '%-22s%6s%6s%6s%6s\n' page perf a11y bp seo
for path in "${PUBLIC_PAGES[@]}"; do audit "$path"; done
for path in "${SIGNED_IN_PAGES[@]}"; do audit "$path" --extra-headers="$cookie"; done
echo "Reports: $OUT" >&2
