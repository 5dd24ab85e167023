#!/usr/bin/env bash
# Install Debian's Chromium and ChromeDriver for the browser tests (the human
# preference page), unless they are already there. Needs root (or sudo) and
# apt-get; elsewhere it says what to install and the browser tests fail with
# the same message.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; fi
fi
if command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    if ! $SUDO apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; then
        $SUDO apt-get update -q >/dev/null
        $SUDO apt-get install -y -q chromium chromium-driver >/dev/null
    fi
else
    echo "install_browser.sh: no apt-get here; install Chromium and ChromeDriver" \
        "(/usr/bin/chromium, /usr/bin/chromedriver) for the browser tests" >&2
fi
