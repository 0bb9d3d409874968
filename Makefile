# lens — two entry points for a fresh Debian 12 machine:
#   make demo   install missing packages, build Release, analyze the bundled sample
#   make test   build and run every test (also unit tests under ASan+UBSan,
#               threaded ones under TSan)
JOBS ?= $(shell nproc)

.PHONY: all build demo test bench asan tsan clean
all: build

# The package bootstrap runs once (and again when bootstrap.sh changes or after
# make clean), not on every build.
BOOTSTRAPPED := build/.bootstrapped
$(BOOTSTRAPPED): scripts/bootstrap.sh
	@scripts/bootstrap.sh
	@mkdir -p build && touch $@

build: $(BOOTSTRAPPED)
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build -j$(JOBS)

asan: $(BOOTSTRAPPED)
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DLENS_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j$(JOBS)

tsan: $(BOOTSTRAPPED)
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLENS_TSAN=ON >/dev/null
	@cmake --build build-tsan -j$(JOBS)

demo: build
	@scripts/demo.sh

test: build asan tsan
	@scripts/run_tests.sh

bench: build
	@scripts/bootstrap.sh --bench
	@bench/encoder/run.sh

clean:
	rm -rf build build-asan build-tsan
