#!/usr/bin/env bash
# The shape of liblens: what it exports and what its names say.
#   - liblens.so exports exactly the functions the public headers declare
#     (LENS_API), and every one of those;
#   - every symbol with external linkage in the module libraries is public
#     (lens_, declared in include/lens) or internal (lens__);
#   - no source under src/ uses a lens_/LENS_ name that is not public: the
#     single underscore means the public API (README, "Names");
#   - each public header compiles on its own and names no jansson, SQLite or
#     libmicrohttpd type;
#   - the tokenizer's test links lens_text and lens_io without SQLite or
#     libmicrohttpd.
# usage: tests/test_api.sh BUILD_DIR LIBLENS_SO
set -uo pipefail
build=$1 so=$2
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$root/tests/lib.sh"

nm -D --defined-only "$so" | awk '$2 ~ /^[TWDBRV]$/ {print $3}' | sort > "$work/exported"
for lib in "$build"/liblens_*.a; do nm -g --defined-only "$lib" | awk 'NF == 3 {print $3}'; done | sort -u > "$work/global"
check "exports, globals and names follow the rule" $PY - "$root" "$work/exported" "$work/global" <<'PY'
import os, re, sys
root, exported, glob = sys.argv[1], set(open(sys.argv[2]).read().split()), set(open(sys.argv[3]).read().split())
def strip(s):
    s = re.sub(r"/\*.*?\*/", " ", s, flags=re.S)
    s = re.sub(r"//[^\n]*", " ", s)
    return re.sub(r'"(\\.|[^"\\\n])*"', '""', s)
inc = os.path.join(root, "include", "lens")
public, api = set(), set()
for f in os.listdir(inc):
    s = strip(open(os.path.join(inc, f)).read())
    public |= set(re.findall(r"\b(?:lens|LENS)_\w*", s))
    for decl in re.findall(r"LENS_API\b[^;{]*?\b(lens_\w+)\s*\(", s):
        api.add(decl)
    # a function declared without LENS_API would be hidden
    for m in re.finditer(r"^(?!LENS_API|typedef|#|\s)[^;{}()]*?\b(lens_\w+)\s*\(", s, re.M):
        print("declared without LENS_API:", m.group(1)); sys.exit(1)
bad = []
if exported != api:
    bad.append("exported but not LENS_API: %s" % sorted(exported - api))
    bad.append("LENS_API but not exported: %s" % sorted(api - exported))
stray = sorted(n for n in glob if not (n.startswith("lens__") or n in api))
if stray: bad.append("global symbols neither public nor lens__: %s" % stray)
cli_defs = {"LENS_BUNDLED_MODEL", "LENS_BUNDLED_VADER", "LENS_BUNDLED_THEMES", "LENS_WEB_DIR"}
for dp, dn, fn in os.walk(os.path.join(root, "src")):
    for f in fn:
        if not f.endswith((".c", ".h")): continue
        p = os.path.join(dp, f)
        for t in sorted(set(re.findall(r"\b(?:lens|LENS)_[A-Za-z0-9]\w*", strip(open(p).read())))):
            if t in public or t in cli_defs or re.fullmatch(r"LENS_\w*_H", t): continue
            bad.append("%s: %s is not public: name it %s" % (os.path.relpath(p, root), t, ("lens__" if t[0] == "l" else "LENS__") + t[5:]))
print("%d exported, %d global symbols" % (len(exported), len(glob)))
for b in bad: print(b)
sys.exit(1 if bad else 0)
PY

# each public header alone, with no third-party types
for h in "$root"/include/lens/*.h; do
    name=${h#$root/include/}
    printf '#include "%s"\nint main(void) { return 0; }\n' "$name" > "$work/h.c"
    check "$name compiles alone" cc -std=c11 -Wall -Wextra -Werror -I"$root/include" -c "$work/h.c" -o "$work/h.o"
    # compiling alone, it can only use jansson's, SQLite's or libmicrohttpd's
    # types by including their headers
    check "$name includes no jansson, SQLite or libmicrohttpd" \
        bash -c "! cc -std=c11 -I'$root/include' -M '$work/h.c' | grep -qE 'jansson|sqlite3|microhttpd'"
done

link=$build/tests/CMakeFiles/test_tokenizer.dir/link.txt
check "test_tokenizer links lens_text" grep -q "liblens_text.a" "$link"
check "...without SQLite or libmicrohttpd" bash -c "! grep -qE 'sqlite|microhttpd|liblens_(jobs|server)' '$link'"

finish api
