#!/usr/bin/env bash
# The schema contract: schema/contract.graphql is the SDL clients see (the
# gateway's introspection, printed by graphql-inspector as graphql-js prints
# it). Usage:
#   schema/contract.sh check   fail on a breaking change against the contract,
#                              or when the contract is not what the code serves
#   schema/contract.sh write   rewrite the contract from the code; a breaking
#                              change needs ALLOW_BREAKING=1, so it is deliberate
# Needs schema/node_modules (npm ci in schema/, which the Makefile runs).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-}"
contract=schema/contract.graphql
inspector=schema/node_modules/.bin/graphql-inspector
[ -x "$inspector" ] || { echo "graphql-inspector is not installed: run 'npm ci' in schema/ (make does)" >&2; exit 2; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
go run ./cmd/introspect >"$tmp/introspection.json"
"$inspector" introspect "$tmp/introspection.json" --write "$tmp/current.graphql" >/dev/null
current="$tmp/current.graphql"

# graphql-inspector diff exits 1 when a change breaks clients of the old schema.
breaking=0
if [ -f "$contract" ]; then
  "$inspector" diff "$contract" "$current" || breaking=1
fi

case "$mode" in
check)
  [ -f "$contract" ] || { echo "$contract is missing: run 'make schema-contract' and commit it"; exit 1; }
  if [ "$breaking" = 1 ]; then
    echo "the schema the code serves breaks the contract $contract (above). If that is meant, run 'make schema-contract ALLOW_BREAKING=1' and commit it"
    exit 1
  fi
  if ! cmp -s "$contract" "$current"; then
    diff -u "$contract" "$current" || true
    echo "$contract is stale: the code serves another schema (above). Run 'make schema-contract' and commit it"
    exit 1
  fi
  # The check checks itself: a field the code no longer serves must be
  # reported as breaking, or a broken tool would pass everything.
  sed '0,/^type Query {$/s//type Query {\n  contractProbe: Int/' "$contract" >"$tmp/probe.graphql"
  if "$inspector" diff "$tmp/probe.graphql" "$current" >"$tmp/probe.log" 2>&1; then
    cat "$tmp/probe.log"
    echo "graphql-inspector did not report a removed field as breaking: the contract check cannot be trusted"
    exit 1
  fi
  echo "schema contract: $contract matches the code, no breaking change"
  ;;
write)
  if [ "$breaking" = 1 ] && [ "${ALLOW_BREAKING:-}" != 1 ]; then
    echo "not written: the change breaks clients (above). Rerun with ALLOW_BREAKING=1 if that is meant"
    exit 1
  fi
  cp "$current" "$contract"
  echo "wrote $contract"
  ;;
*)
  echo "usage: $0 check|write" >&2
  exit 2
  ;;
esac
