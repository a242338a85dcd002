#!/usr/bin/env bash
# Idempotent set-up for the Switchyard benchmarks (bench/run.py, bench/frameworks/run.py):
#   - wrk and nginx from Debian (apt-get; needs root, or sudo when available)
#   - bench/.venv-litellm: a separate venv with the pinned LiteLLM proxy
#     (bench/litellm-requirements.txt), so LiteLLM's dependencies never touch Switchyard's venv.
# Re-running it does nothing when everything is already there.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$BENCH_DIR/.venv-litellm"
PYTHON="${PYTHON:-python3}"

need_apt=()
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
command -v valgrind >/dev/null 2>&1 || need_apt+=(valgrind)  # bench/instructions.py
if [ ${#need_apt[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "setup: installing ${need_apt[*]} with apt-get"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
    # Debian may start a system nginx on port 80; the benchmark runs its own on 127.0.0.1:18081.
fi
command -v taskset >/dev/null 2>&1 || echo "setup: taskset missing (util-linux): runs will not be CPU-pinned"

want="$(grep -v '^\s*#' "$BENCH_DIR/litellm-requirements.txt" | sed -n 's/.*==\s*//p' | head -1)"
have=""
if [ -x "$VENV/bin/python" ]; then
    have="$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))' 2>/dev/null || true)"
fi
if [ -z "$have" ] || [ "$have" != "$want" ] || [ ! -x "$VENV/bin/litellm" ]; then
    echo "setup: creating $VENV with litellm[proxy]==$want (takes a few minutes)"
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install -q -r "$BENCH_DIR/litellm-requirements.txt"
fi

echo "setup: wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), $(nginx -v 2>&1), litellm $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))')"
