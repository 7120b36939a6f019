#!/bin/sh
# Install Debian packages the project uses, when they are missing and apt can be used
# (as root, or with passwordless sudo). Never fails the build: the tests that need a
# package skip with a reason when it is absent.
#
#   sh scripts/system-packages.sh            the optional test packages
#   sh scripts/system-packages.sh NAME...    the named packages
if [ $# -gt 0 ]; then
  need="$*"
else
  need=""
  [ -d /usr/share/datasets/fashion-mnist ] || need="$need dataset-fashion-mnist"
  command -v chromium >/dev/null 2>&1 || need="$need chromium"
fi
[ -n "$need" ] || exit 0
command -v apt-get >/dev/null 2>&1 || { echo "no apt-get: skipping $need"; exit 0; }
if [ "$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n";
else echo "not root: skipping $need (install them to run every test)"; exit 0; fi
echo "installing $need"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -q $need >/dev/null 2>&1 || {
  $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q $need >/dev/null 2>&1
} || echo "could not install $need"
exit 0
