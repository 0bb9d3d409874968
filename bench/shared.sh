# Sourced (after setting $root to the repository root) by benchmarks and tools
# that read the large shared data, which a clone does not carry. Sets $shared
# (LENS_SHARED, default <repo>/../shared); need_shared REL... exits with one
# line saying where to get a missing file.
shared=${LENS_SHARED:-${root:?}/../shared}
need_shared() {
    for rel in "$@"; do
        [ -e "$shared/$rel" ] && continue
        case $rel in
        data/steam/*) src="309,991 Steam reviews (MIT) from github.com/WillyUFT/An-lisis-de-rese-as-de-Steam-utlilizando-Python, data/review_*.json, as one xz CSV" ;;
        data/text/sst2*) src="GLUE SST-2 (gluebenchmark.com), label<TAB>sentence" ;;
        data/text/uci*) src="UCI Sentiment Labelled Sentences (archive.ics.uci.edu), sentence<TAB>label" ;;
        *) src="the project's shared assets" ;;
        esac
        echo "$0: $shared/$rel is missing: it is $src; put it there or set LENS_SHARED to the folder that holds data/" >&2
        exit 2
    done
}
