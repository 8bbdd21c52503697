# The README's commands. `make test` is what CI runs (.ci/run).
CARGO ?= cargo

.PHONY: all build deps lint test test-v2 release

all: build

# The programs, in target/debug (the integration tests drive them).
build:
	$(CARGO) build --workspace --bins

# What the tests use (Debian packages, fixtures); the guards: clippy with
# every warning denied (undocumented unsafe blocks among them, see
# Cargo.toml) and `xtask check` (generated man pages and completions, and
# README's and cc.7's options against the clap definitions); then the unit
# tests and the integration tests in tests/, which run the built programs
# as root, then the cgroup test files again in a cgroup-v2 VM, under a
# tiny init and under systemd (scripts/test-v2.sh).
test: deps lint
	$(CARGO) build --workspace --bins
	$(CARGO) test --workspace --no-fail-fast
	scripts/test-v2.sh

# Debian packages, fixtures and clippy, installed when missing.
deps:
	scripts/test-deps.sh

# The guards alone.
lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) run -q -p xtask -- check

# Only the cgroup-v2 VM half.
test-v2:
	scripts/test-v2.sh

release:
	$(CARGO) build --workspace --bins --release
