#!/usr/bin/env bash
# Browser tests need a Chromium. Prefer the system one (Debian's package); install it with apt when we
# are root on Debian; otherwise fall back to Playwright's own download.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Chromium not found: installing Debian's chromium package…"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
echo "No system Chromium found (on Debian/Ubuntu: sudo apt-get install chromium)."
echo "Falling back to Playwright's own browser download…"
python3 -m uv run --frozen playwright install chromium 2>/dev/null || uv run --frozen playwright install chromium
