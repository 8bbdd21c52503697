# The README's commands. `make test` is what CI runs (.ci/run).
CARGO ?= cargo

.PHONY: all build test release

all: build

# The programs, in target/debug (the integration tests drive them).
build:
	$(CARGO) build --workspace --bins

# Unit tests and the integration tests in tests/, which run the built
# programs as root: build them first.
test:
	$(CARGO) build --workspace --bins
	$(CARGO) test --workspace --no-fail-fast

release:
	$(CARGO) build --workspace --bins --release
