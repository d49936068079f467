#!/usr/bin/env bash
# Proves that a feature app comes out as docs/architecture.md says: for each app named (default: chat,
# posts, billing), in a scratch copy of this checkout, delete `<app>/` and `tests/<app>/`, delete the
# lines of saas/ that name it, and run `manage.py check`, `makemigrations --check`, the import contract
# and the fast suite. The checkout itself is never touched. Run from anywhere:
#   scripts/remove-feature-check.sh            # chat, posts and billing, one after the other
#   scripts/remove-feature-check.sh posts      # one app
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
apps=("$@")
[ ${#apps[@]} -gt 0 ] || apps=(chat posts billing)
python="$repo/.venv/bin/python"
[ -x "$python" ] || { echo "No .venv: run 'make install' first." >&2; exit 2; }

for app in "${apps[@]}"; do
  [[ "$app" =~ ^[a-z_]+$ ]] && [ -d "$repo/$app" ] || { echo "No feature app named '$app'." >&2; exit 2; }
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  echo "== without $app (in $scratch) =="
  # The tracked files as they stand in the working tree (uncommitted changes included), nothing else.
  (cd "$repo" && git ls-files -z --cached --others --exclude-standard) \
    | (cd "$repo" && xargs -0 cp --parents -t "$scratch" 2>/dev/null || true)
  cd "$scratch"
  rm -rf "$app" "tests/$app"
  # The lines of saas/ that name the app: its INSTALLED_APPS entry and its entries in the import contract.
  named="$(grep -rnE "^\s*\"$app\",( |$)" saas || true)"
  lines="$(printf '%s' "$named" | grep -c . || true)"
  echo "$named" | sed 's/^/  deleting saas line: /'
  if [ "$lines" -lt 1 ] || [ "$lines" -gt 3 ]; then
    echo "Expected one to three lines of saas/ naming $app, found $lines." >&2
    exit 1
  fi
  grep -rlE "^\s*\"$app\",( |$)" saas | xargs sed -i -E "/^\s*\"$app\",( |$)/d"
  if grep -rnE "(^|\s)(from|import) $app(\.|\s|$)|[\"']$app[.:\"']" saas --include=*.py; then
    echo "saas/ still names $app (above): removing it would need more than deleting its lines." >&2
    exit 1
  fi
  export DJANGO_DEBUG=true
  "$python" manage.py check
  "$python" manage.py makemigrations --check --dry-run
  "$repo/.venv/bin/lint-imports" --config saas/importlinter.toml
  # The fast suite, as `make test-fast` runs it. The benchmark harness (bench/, tests/bench/) measures
  # the whole product and is not part of it: it is left out here.
  "$python" -m pytest -q -n "${PYTEST_WORKERS:-auto}" --dist loadfile -m "not browser" -p no:randomly --ignore=tests/bench
  cd "$repo"
  rm -rf "$scratch"
  trap - EXIT
  echo "== without $app: all passed =="
done
