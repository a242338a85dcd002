#!/usr/bin/env bash
# The coding agents tests/agents runs through the gateway (Claude Code, Codex CLI, gemini-cli),
# at the exact versions of tests/agents/package-lock.json. `npm ci` only when node_modules is
# missing or older than the lock file, so a second run takes no time. npm ci installs the
# optional platform packages that carry Claude Code's and Codex's native binaries, and runs
# Claude Code's postinstall, which puts its binary in place: each agent must then answer
# --version. Without npm, a developer's run goes on (the agents' tests skip); CI fails.
set -euo pipefail
cd "$(dirname "$0")/../tests/agents"
installed=node_modules/.package-lock.json   # written by npm at the end of an install
if [ -f "$installed" ] && [ "$installed" -nt package-lock.json ]; then exit 0; fi
if ! command -v npm >/dev/null; then
  echo "npm is missing: the coding agents' tests will not run" >&2
  [ "${CI:-}" = "true" ] && exit 1
  exit 0
fi
echo "installing the coding agents (npm ci in tests/agents)"
npm ci --no-audit --no-fund --include=optional --loglevel=error
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
# asked with no network at all (a namespace of its own), as the tests run them: nothing leaves
for agent in claude codex gemini; do
  if ! out=$(HOME="$home" CODEX_HOME="$home" unshare --net timeout 60 "node_modules/.bin/$agent" --version 2>&1); then
    echo "$agent does not run: $out" >&2
    exit 1
  fi
done
