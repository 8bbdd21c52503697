# The README's commands. `make test` is what CI runs (.ci/run).
CARGO ?= cargo

.PHONY: all build test test-v2 release

all: build

# The programs, in target/debug (the integration tests drive them).
build:
	$(CARGO) build --workspace --bins

# What the tests use (Debian packages, fixtures), then the unit tests and
# the integration tests in tests/, which run the built programs as root,
# then the cgroup test files again in a cgroup-v2 VM, under a tiny init and
# under systemd (scripts/test-v2.sh).
test:
	scripts/test-deps.sh
	$(CARGO) build --workspace --bins
	$(CARGO) test --workspace --no-fail-fast
	scripts/test-v2.sh

# Only the cgroup-v2 VM half.
test-v2:
	scripts/test-v2.sh

release:
	$(CARGO) build --workspace --bins --release
