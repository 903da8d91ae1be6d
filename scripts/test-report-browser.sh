#!/usr/bin/env bash
# The report as an admin's mail program shows it: the HTML of a report scenario, rendered
# by `opsync render-report` (the engine), opened in a real browser (headless Chromium
# from Debian). The browser's own DOM is read back and its structure asserted (subject,
# the tables in order with their row counts, a link to the WHMCS admin page for each
# domain, the advice, nothing injected), and a screenshot is taken.
#
#   scripts/test-report-browser.sh [OPSYNC] [SCREENSHOT.png]
#
# OPSYNC defaults to target/debug/opsync, the screenshot to target/report.png
# (`make report-screenshot` refreshes docs/report.png, the picture in the README).
set -euo pipefail
cd "$(dirname "$0")/.."

opsync=${1:-target/debug/opsync}
shot=${2:-target/report.png}
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "test-report-browser: chromium is missing (apt-get install chromium)" >&2; exit 1; }
work=$(mktemp -d /tmp/opsync-report.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "test-report-browser: FAIL: $*" >&2; exit 1; }

# A first run on a tracked account (new problems, changes, links, advice), and the same
# with a message that carries HTML, which must arrive as text.
scenario=fixtures/reports/tracked-first-run-lists-everything-as-new.input.json
python3 - "$scenario" "$work/hostile-input.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for r in d["response"]["results"]:
    for n in r["notices"]:
        if n["code"] == "unknown_status":
            n["message"] = 'Openprovider status "<img src=x onerror=alert(1)>" is not one opsync knows'
json.dump(d, open(sys.argv[2], "w"))
PY
for name in report hostile; do
    input=$scenario
    [ "$name" = hostile ] && input=$work/hostile-input.json
    "$opsync" render-report --engine wasm "$input" > "$work/$name.json" || fail "render-report"
    python3 -c 'import json,sys; open(sys.argv[2],"w").write(json.load(open(sys.argv[1]))["html"])' \
        "$work/$name.json" "$work/$name.html"
done

run_browser() {
    timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --no-first-run --user-data-dir="$work/profile" --hide-scrollbars "$@" 2>>"$work/browser.log"
}
run_browser --dump-dom "file://$work/report.html" > "$work/dom.html" || { cat "$work/browser.log" >&2; fail "dump-dom"; }
run_browser --dump-dom "file://$work/hostile.html" > "$work/hostile-dom.html" || { cat "$work/browser.log" >&2; fail "dump-dom"; }
mkdir -p "$(dirname "$shot")"
run_browser --window-size=1100,900 --screenshot="$shot" "file://$work/report.html" >/dev/null \
    || { cat "$work/browser.log" >&2; fail "screenshot"; }

python3 - "$work/dom.html" "$shot" "$work/hostile-dom.html" <<'PY'
import struct, sys
from html.parser import HTMLParser

class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.h2, self.h3, self.links, self.imgs, self.tables, self.items = [], [], [], [], 0, [], []
        self.text = ""
    def handle_starttag(self, tag, attrs):
        self.stack.append(tag); self.text = ""
        if tag == "a": self.links.append(dict(attrs).get("href"))
        if tag in ("img", "script"): self.imgs += 1
        if tag == "table": self.tables.append(0)
        if tag == "tr" and self.tables: self.tables[-1] += 1
    def handle_endtag(self, tag):
        if tag == "h2": self.h2.append(self.text.strip())
        if tag == "h3": self.h3.append(self.text.strip())
        if tag == "li": self.items.append(self.text.strip())
        if self.stack: self.stack.pop()
    def handle_data(self, data): self.text += data

page = Page(); page.feed(open(sys.argv[1]).read())
def check(ok, what):
    if not ok:
        sys.exit(f"test-report-browser: FAIL: {what}")
    print(f"test-report-browser: ok: {what}")
check(page.h2 == ["Domain Synchronisation Report: 2 domains changed, 1 new error, 2 new warnings"], f"the subject heads the page: {page.h2}")
check(page.h3 == ["New errors (1)", "New warnings (2)", "Expiry date (1)", "Auto-renew (1)", "What to do"], f"the sections, in order: {page.h3}")
check(page.tables == [2, 3, 2, 2], f"each table's rows, heading included: {page.tables}")
base = "https://billing.example.com/admin/clientsdomains.php?"
check(sorted(page.links) == sorted([base + f"userid={100 + i}&id={i}" for i in (1, 7, 3, 9)] + [base + "id=5"]),
      f"each domain links to its WHMCS admin page: {page.links}")
hostile = Page(); hostile.feed(open(sys.argv[3]).read())
check(page.imgs == 0 and hostile.imgs == 0 and hostile.h3 == page.h3,
      "HTML in a message stays text: no element injected, the same sections")
check(len(page.items) == 3 and page.items[2].startswith("not_in_openprovider: if the domain moved"),
      f"one line of advice per code: {page.items}")
png = open(sys.argv[2], "rb").read()
check(png[:8] == b"\x89PNG\r\n\x1a\n", "the screenshot is a PNG")
width, height = struct.unpack(">II", png[16:24])
check((width, height) == (1100, 900) and len(png) > 20000, f"the screenshot: {width}x{height}, {len(png)} bytes")
PY
echo "test-report-browser: screenshot in $shot"
