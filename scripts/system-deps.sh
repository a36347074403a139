#!/usr/bin/env bash
# Install the Debian packages fanzwatch runs and tests against, only when missing.
set -euo pipefail
need=()
for pair in prometheus:prometheus promtool:prometheus prometheus-alertmanager:prometheus-alertmanager \
            amtool:prometheus-alertmanager prometheus-node-exporter:prometheus-node-exporter \
            prometheus-blackbox-exporter:prometheus-blackbox-exporter \
            chromium:chromium chromedriver:chromium-driver wrk:wrk; do
  bin=${pair%%:*}; pkg=${pair##*:}
  command -v "$bin" >/dev/null 2>&1 || need+=("$pkg")
done
# Fonts Chromium draws FanzDash, the notifications page and the screenshots with (emoji, not boxes).
for pkg in fonts-noto-color-emoji fonts-dejavu-core; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
echo "installing Debian packages: ${need[*]}"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The Debian packages start system services we do not want: fanzwatch runs its own.
for svc in prometheus prometheus-alertmanager prometheus-node-exporter prometheus-blackbox-exporter; do
  $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
