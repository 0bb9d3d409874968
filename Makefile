# lens — two entry points for a fresh Debian 12 machine:
#   make demo   install missing packages, build Release, analyze the bundled sample
#   make test   build and run every test (also unit tests under ASan+UBSan,
#               threaded ones under TSan)
JOBS ?= $(shell nproc)

.PHONY: all build demo test bench asan tsan clean
all: build

# The package bootstrap runs once (and again when bootstrap.sh changes or after
# make clean), not on every build; and whenever configuring fails, as it does
# when a library has gone missing since.
BOOTSTRAPPED := build/.bootstrapped
$(BOOTSTRAPPED): scripts/bootstrap.sh
	@scripts/bootstrap.sh
	@mkdir -p build && touch $@
configure = cmake -S . -B $(1) $(2) >/dev/null 2>&1 || { scripts/bootstrap.sh && cmake -S . -B $(1) $(2) >/dev/null; }

build: $(BOOTSTRAPPED)
	@$(call configure,build,-DCMAKE_BUILD_TYPE=Release)
	@cmake --build build -j$(JOBS)

asan: $(BOOTSTRAPPED)
	@$(call configure,build-asan,-DCMAKE_BUILD_TYPE=Debug -DLENS_SANITIZE=ON)
	@cmake --build build-asan -j$(JOBS)

tsan: $(BOOTSTRAPPED)
	@$(call configure,build-tsan,-DCMAKE_BUILD_TYPE=RelWithDebInfo -DLENS_TSAN=ON)
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
