#!/usr/bin/env bash
# Screenshots of the built manual with headless Chromium, for a person to look at.
#
#   bash docs/screenshots.sh [OUT_DIR]       (default: ./site-screenshots)
#
# Builds the site with `mkdocs build --strict` (the server reference of MAAS 3.7 and
# TrueNAS 26.0 only, unless MAAS_DYN_DOCS_RELEASES=all), serves it on 127.0.0.1, and
# saves full-size PNGs of the home page (light and dark), the provisioning guide, an
# API reference page and a server reference page (MAAS 3.7 tags), each checked for being neither blank
# nor in the wrong colour scheme (tests/test_docs.py::test_screenshots_of_the_site).
# Needs Debian's `chromium` (apt-get install chromium); without it, says so and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-site-screenshots}")
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
    echo "chromium is not installed (apt-get install chromium): no screenshots taken"
    exit 0
fi
python=${PYTHON:-python3}
[ -x .venv/bin/python ] && python=${PYTHON:-.venv/bin/python}
MAAS_DYN_DOCS_SCREENSHOTS="$out" "$python" -m pytest --no-cov -p no:cacheprovider -q \
    tests/test_docs.py -k test_screenshots_of_the_site
echo "screenshots in $out:"
ls -1 "$out"
