# StarRocks sink connector for Kafka Connect: Rust core + Java shim.
#
#   make build     cargo build --release (emulator, tests), the native library for each of NATIVE_TARGETS
#                  (cargo zigbuild against glibc $(GLIBC_FLOOR), checked), then the shim jar with the libraries inside
#   make package   target/plugin/starrocks-kafka-connector-<version>/ (manifest.json, LICENSE, lib/, doc/,
#                  doc/licenses/) and its .zip
#   make demo      the docs' quick start on local processes (emulator, broker, Connect standalone)
#   make test      Rust tests, Java tests (+ the JNI round trip), then pytest over tests/ (end to end)
#   make soak      the long reliability runs: 1,000 connector lifecycles on one worker, then tests/soak/
#   make bench     benchmarks (criterion, the Java encoder, emulator, Connect end to end; docs/performance.md)
#   make fuzz      fuzz the batch decoder (nightly Rust; FUZZ_SECONDS=120)
#   make docs      regenerate docs/configuration.md's reference section from the ConfigDef
#   make clean     build outputs (keeps .venv/ and tests/.cache, the resolved Kafka jars)
#   make distclean build outputs, .venv/ and tests/.cache
#
# Set-up is part of the targets: .venv/ (the project's Python environment, with Zig and
# cargo-zigbuild) is made from tests/requirements.txt when it is missing or the file changed, and
# `make test` installs PostgreSQL and the mysql client from Debian when they are missing
# (scripts/setup_env.py). ZIGBUILD=0 builds the native library with plain cargo instead of Zig: a
# library for this machine's glibc only, for platforms without Zig; never a release.

SHELL       := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

# SYSTEM_PYTHON makes the environment (resolved before PATH changes, so it never names the
# environment's own python3); every target then runs the environment's python, and its bin/
# (cargo-zigbuild) comes first on PATH.
ifeq ($(origin SYSTEM_PYTHON),undefined)
SYSTEM_PYTHON := $(shell command -v python3 || echo python3)
endif
VENV   ?= .venv
PYTHON := $(abspath $(VENV))/bin/python
VENV_STAMP := $(VENV)/.requirements-sha256
export PATH := $(abspath $(VENV))/bin:$(PATH)
export VIRTUAL_ENV := $(abspath $(VENV))
CARGO  ?= cargo
MVN    ?= mvn -B -Dstyle.color=never
MVN_Q  := $(MVN) -q
PYTEST_ARGS ?=

VERSION      := $(shell $(SYSTEM_PYTHON) -c "import sys; sys.path.insert(0, 'tests'); from harness import plugin; print(plugin.version())")
# Rust target triples whose native library goes into the jar (native/<os>-<arch>/); each needs its
# standard library (`rustup target add <triple>`). docs/architecture.md "Packaging" says how to add one.
NATIVE_TARGETS ?= x86_64-unknown-linux-gnu
# The oldest glibc the Linux libraries must load on: built with `cargo zigbuild --target <triple>.$(GLIBC_FLOOR)`
# (Zig from PyPI, in .venv) and checked with scripts/check_glibc.py. ZIGBUILD=0: plain cargo, not a release.
GLIBC_FLOOR  ?= 2.17
ZIGBUILD     ?= 1
# the library the Java IT and the tests load directly: the linux x86_64 one that goes into the jar
NATIVE_LIB   := target/x86_64-unknown-linux-gnu/release/libstarrocks_kafka_native.so
NATIVE_RES   := java-shim/target/native-resources
SHIM_JAR     := java-shim/target/starrocks-kafka-connector-$(VERSION).jar
PLUGIN_NAME  := starrocks-kafka-connector-$(VERSION)
PLUGIN_DIR   := target/plugin/$(PLUGIN_NAME)
PLUGIN_ZIP   := target/plugin/$(PLUGIN_NAME).zip

.PHONY: docs build package demo test test-rust test-java test-e2e soak fuzz sim-long kafka registry bench clean distclean \
        venv build-tools test-tools

# The environment is remade only when tests/requirements.txt changes (the stamp holds its hash).
venv: $(VENV_STAMP)
$(VENV_STAMP): tests/requirements.txt scripts/setup_env.py
	$(SYSTEM_PYTHON) scripts/setup_env.py venv --venv $(VENV)

build-tools:
	@$(SYSTEM_PYTHON) scripts/setup_env.py build-tools

test-tools:
	@$(SYSTEM_PYTHON) scripts/setup_env.py test-tools

build: $(VENV_STAMP) build-tools
	@echo "==> Rust: the emulator and the workspace (cargo build --release; the first build downloads ~300 crates and takes 5-8 min on 2 cores)"
	$(CARGO) build --release --workspace
	@echo "==> Rust: the native library for $(NATIVE_TARGETS) (cargo zigbuild, glibc $(GLIBC_FLOOR))"
	ZIGBUILD="$(ZIGBUILD)" CARGO="$(CARGO)" $(PYTHON) scripts/build_native.py --out $(NATIVE_RES) --glibc-floor $(GLIBC_FLOOR) $(NATIVE_TARGETS)
	@echo "==> Maven: the shim jar (the first build downloads the Maven plugins and connect-api)"
	$(MVN_Q) -f java-shim/pom.xml package -DskipTests
	@test -f $(SHIM_JAR) || { echo "no $(SHIM_JAR) after mvn package" >&2; exit 1; }

package: build
	rm -rf $(PLUGIN_DIR) $(PLUGIN_ZIP)
	mkdir -p $(PLUGIN_DIR)/lib $(PLUGIN_DIR)/doc
	cp $(SHIM_JAR) $(PLUGIN_DIR)/lib/
	cp README.md $(PLUGIN_DIR)/doc/
	cp -r docs/. $(PLUGIN_DIR)/doc/
	CARGO="$(CARGO)" $(PYTHON) scripts/package_meta.py --plugin-dir $(PLUGIN_DIR) --version $(VERSION) \
	  --jar $(PLUGIN_DIR)/lib/$(notdir $(SHIM_JAR)) $(addprefix --target ,$(NATIVE_TARGETS))
	cd target/plugin && $(PYTHON) -m zipfile -c $(PLUGIN_NAME).zip $(PLUGIN_NAME)/
	@echo "packaged $(PLUGIN_DIR)/ and $(PLUGIN_ZIP)"

# The Kafka jars the harness and the demo run (3.4: the oldest Connect the README names), Debezium's PostgreSQL connector for the CDC test
# (resolved once into tests/.cache by tests/kafka/*/pom.xml).
kafka: $(VENV_STAMP)
	@echo "==> Kafka 4.4, 3.9 and 3.4 jars, Debezium (resolved once into tests/.cache by Maven)"
	$(PYTHON) -c "import sys; sys.path.insert(0, 'tests'); from harness import kafka; [print(kafka.lib_dir(l)) for l in kafka.VERSIONS]"
	$(PYTHON) -c "import sys; sys.path.insert(0, 'tests'); from harness import debezium; [print(debezium.plugins_dir(debezium.version_for(l))) for l in ('4.4', '3.9')]"

# Apicurio Registry (built from Maven Central jars, tests/registry/) and its converters, for the
# registry suites (docs/converters.md); built once into tests/.cache.
registry: $(VENV_STAMP)
	@echo "==> Apicurio Registry 2.4.2 and its 2.6 converters (built once into tests/.cache; about a minute)"
	$(PYTHON) -c "import sys; sys.path.insert(0, 'tests'); from harness import registry; print(registry.runner_jar()); print(registry.converter_plugins())"

demo: package
	$(PYTHON) scripts/demo.py

test-rust:
	$(CARGO) test --release --workspace

# Unit tests (surefire), then NativeBridgeIT (failsafe): the JNI round trip against the built library.
test-java:
	$(MVN) -ntp -f java-shim/pom.xml verify -Dstarrocks.connector.native.lib=$(abspath $(NATIVE_LIB))

test-e2e: kafka registry test-tools
	$(PYTHON) -m pytest -v --durations=15 $(PYTEST_ARGS) tests

# Every suite runs even if an earlier one fails; the target fails if any did. The Debian tools are
# checked first, so a machine without them stops at once rather than after the build.
test: test-tools package
	@rc=0; \
	$(MAKE) --no-print-directory test-rust || rc=1; \
	$(MAKE) --no-print-directory test-java || rc=1; \
	$(MAKE) --no-print-directory test-e2e || rc=1; \
	exit $$rc

# The long reliability runs of issue 24, never part of `make test`: the lifecycle test
# (tests/integration/test_lifecycle.py, 100 steps in `make test`) with SOAK_LIFECYCLES steps, then
# every test in tests/soak/, the place for the 60-minute soak (its conftest marks them `soak`, and
# pytest.ini deselects that marker unless -m selects it; exit code 5 is "no tests collected").
SOAK_LIFECYCLES ?= 1000
soak: kafka package
	@rc=0; \
	LIFECYCLES=$(SOAK_LIFECYCLES) $(PYTHON) -m pytest -v $(PYTEST_ARGS) tests/integration/test_lifecycle.py || rc=1; \
	$(PYTHON) -m pytest -v --durations=15 -m soak $(PYTEST_ARGS) tests/soak || { s=$$?; [ $$s -eq 5 ] || rc=1; }; \
	exit $$rc

# Fuzz the batch decoder and row serializers (nightly Rust + cargo-fuzz); new corpus entries are
# kept in native/fuzz/corpus/decode and replayed by `make test` (native/core/tests/fuzz_corpus.rs).
# The exactly-once simulation beyond the 2,000 schedules `make test` runs (docs/exactly-once.md).
SIM_SCHEDULES ?= 50000
sim-long:
	EO_SIM_SCHEDULES=$(SIM_SCHEDULES) $(CARGO) test --release -p starrocks-sink-core --test exactly_once_sim -- --nocapture

FUZZ_SECONDS ?= 120
fuzz:
	command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	$(CARGO) +nightly fuzz run --fuzz-dir native/fuzz decode native/fuzz/corpus/decode -- -max_total_time=$(FUZZ_SECONDS) -max_len=4096

# Benchmarks (figures, not pass/fail; docs/performance.md): the Rust decode+serialize micro-benchmark
# (criterion), the emulator's own load speed, then the Connect benchmark with a real broker and
# workers against the do-nothing sink's ceiling. BENCH_ARGS go to bench/connect_bench.py
# (e.g. BENCH_ARGS="--records 500000 --scenarios json,csv --tasks 4").
BENCH_ARGS ?=
bench: package kafka
	$(CARGO) bench -p starrocks-sink-core --bench decode_serialize -- --warm-up-time 1 --measurement-time 3
	$(MVN_Q) -f java-shim/pom.xml test-compile dependency:build-classpath -Dmdep.outputFile=target/test-classpath.txt
	java -cp "java-shim/target/test-classes:java-shim/target/classes:$$(cat java-shim/target/test-classpath.txt)" \
	  com.starrocks.connector.kafka.encode.EncoderBench
	$(CARGO) run --release -p starrocks-emulator --bin emulator-bench
	$(PYTHON) bench/connect_bench.py $(BENCH_ARGS)

# docs/configuration.md's reference section, rendered from the connector's ConfigDef
# (java-shim ConfigReferenceTest fails when it is out of date).
docs:
	$(MVN_Q) -f java-shim/pom.xml compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
	java -cp "java-shim/target/classes:$$(cat java-shim/target/classpath.txt)" com.starrocks.connector.kafka.ConfigReference docs/configuration.md

clean:
	$(CARGO) clean
	rm -rf java-shim/target .pytest_cache
	find tests scripts bench -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf tests/.cache $(VENV)
