#!/bin/sh
# Install the optional Debian packages the tests use, when they are missing and apt can
# be used (as root, or with passwordless sudo). Never fails the build: the tests that
# need a package skip with a reason when it is absent.
need=""
[ -d /usr/share/datasets/fashion-mnist ] || need="$need dataset-fashion-mnist"
command -v chromium >/dev/null 2>&1 || need="$need chromium"
[ -n "$need" ] || exit 0
command -v apt-get >/dev/null 2>&1 || { echo "no apt-get: skipping$need"; exit 0; }
if [ "$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n";
else echo "not root: skipping$need (install them to run every test)"; exit 0; fi
echo "installing$need"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -q $need >/dev/null 2>&1 || {
  $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q $need >/dev/null 2>&1
} || echo "could not install$need; the tests that need them will skip"
exit 0
