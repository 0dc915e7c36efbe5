#!/usr/bin/env bash
# The tests and the demo run a real rsyslog (with TLS) on 127.0.0.1, make certificates with
# openssl and check zips with unzip. Installs whatever is missing.
set -euo pipefail
pkgs=(rsyslog rsyslog-openssl rsyslog-gnutls openssl unzip)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "Missing Debian packages: ${missing[*]}. Install them as root: apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing ${missing[*]} (needed by the tests and the demo)..." >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
  { $sudo apt-get update -qq && $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
# The package starts nothing here (no systemd); the tests start their own rsyslogd by pid.
