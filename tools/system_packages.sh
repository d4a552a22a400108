#!/usr/bin/env bash
# The Debian packages the tests need beyond .venv: bubblewrap (the grader's sandbox)
# and Chromium (the browser tests; Playwright from PyPI cannot download one).
# Installs what is missing when it can (root, or sudo without a password);
# otherwise says what to install in one line and exits 1.
set -euo pipefail
missing=()
command -v bwrap >/dev/null || missing+=(bubblewrap)
[ -x "${KERASDL_CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
    echo "setup: the tests need ${missing[*]}; install them with your system's package manager" >&2
    exit 1
fi
if [ "$(id -u)" = 0 ]; then
    sudo=()
elif sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    echo "setup: the tests need ${missing[*]}: run \`sudo apt-get install ${missing[*]}\`, then make test again" >&2
    exit 1
fi
echo "setup: installing ${missing[*]} (Debian packages) for the grading sandbox and the browser tests"
start=$(date +%s)
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
echo "setup: system packages installed in $(( $(date +%s) - start )) s"
