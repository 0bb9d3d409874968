#!/usr/bin/env bash
# Generates the seeded test models (numpy only) into DIR, unless already there
# from the same generator. usage: tests/gen_models.sh DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: gen_models.sh DIR}
stamp=$(sha256sum "$root/tools/gen_weights.py" | cut -c1-16)
gen() { # name args...
    local name=$1; shift
    if [[ -f "$out/$name/.stamp" && $(cat "$out/$name/.stamp") == "$stamp" ]]; then return; fi
    rm -rf "$out/$name"
    /usr/bin/python3 "$root/tools/gen_weights.py" --out "$out/$name" "$@"
    echo "$stamp" > "$out/$name/.stamp"
}
gen minilm-gen --seed 1 --geometry minilm --dtype f32
gen small-gen-f16 --seed 1 --geometry small --dtype f16
