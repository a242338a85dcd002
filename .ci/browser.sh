#!/usr/bin/env bash
# The dashboard's end-to-end test drives a real headless Chromium from Debian's packages.
# Install it when missing; in CI (CI=true) a failed install is a failure, not a silent skip.
set -uo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
echo "installing chromium and chromium-driver (apt-get)"
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver; }; then
  echo "could not install chromium: the dashboard's browser test will not run" >&2
  [ "${CI:-}" = "true" ] && exit 1
fi
exit 0
