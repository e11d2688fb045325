#!/bin/sh
# Install the Debian 12 packages vkchat needs to build, test and run.
# Idempotent: installed packages are left alone.  Run as root (or through sudo).
set -eu

PKGS="build-essential autoconf automake autoconf-archive pkg-config
  libvulkan-dev glslc mesa-vulkan-drivers vulkan-validationlayers vulkan-tools
  libncurses-dev libreadline-dev libsqlite3-dev libpcre2-dev libutf8proc-dev
  mandoc tmux clang clang-format python3
  wordnet-base python3-numpy"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "setup: installing:$missing" >&2
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
