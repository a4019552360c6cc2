# Outbound: `make run` builds and publishes the warehouse, `make test` runs the tests.
# Both create the virtual environment from the pinned set (requirements.lock) when it is missing.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

SPARK_STAMP := $(VENV)/.installed-spark
# The Spark extra (dbt-spark, pyspark) is optional: `make spark` installs it, and `make test` does
# too where Java is installed, so that the DuckDB-versus-Spark test runs wherever it can.
JAVA := $(shell command -v java 2>/dev/null)

.PHONY: run test test-cluster test-spark bench cluster venv spark lock clean

run: $(STAMP)
	$(BIN)/outbound run

test: $(STAMP) $(if $(JAVA),$(SPARK_STAMP))
	$(BIN)/pytest

# Only the marts on a Spark cluster of its own (master, two workers, Thrift server), which `make test` runs too.
test-cluster: $(STAMP) $(SPARK_STAMP)
	$(BIN)/pytest tests/test_spark_cluster.py

# The marts on Spark in this process (dbt-spark's session method), compared with DuckDB's: left out of
# `make test`, which builds on Spark once, on a cluster (tests/test_spark.py says why).
test-spark: $(STAMP) $(SPARK_STAMP)
	$(BIN)/pytest -m spark_session

# Outbound against plain DuckDB doing the same work (ROWS=10000000 for the full run; TARGET=spark
# runs the models on Spark in-process, TARGET=spark_thrift on a cluster it starts, TARGET=spark,spark_thrift
# both, each compared with the DuckDB run); figures under benchmarks/results/.
ROWS ?= 1000000
TARGET ?= duckdb
bench: $(STAMP) $(if $(findstring spark,$(TARGET)),$(SPARK_STAMP))
	$(BIN)/python -m benchmarks.bench --rows $(ROWS) --target $(TARGET)

# A Spark standalone master, two workers and the Thrift server on 127.0.0.1, from the pinned pyspark,
# until Ctrl-C (flows/devtools/spark_cluster.py, as the tests start it); it prints the settings for --target spark_thrift.
cluster: $(SPARK_STAMP)
	$(BIN)/python -m flows.devtools.spark_cluster

venv: $(STAMP)

spark: $(SPARK_STAMP)

# The environment is rebuilt when the pinned set or the package metadata changes. It says what it
# does and how long that takes; pip's output goes to $(VENV)/install.log, whose end is shown if it fails.
INSTALL_LOG := $(VENV)/install.log
define pip_install
	start=$$(date +%s); \
	if ! $(BIN)/python -m pip install --progress-bar off $(1) >> $(INSTALL_LOG) 2>&1; then \
		echo "error: installing $(2) failed (pip's output is in $(INSTALL_LOG)); its last lines:" >&2; \
		tail -n 15 $(INSTALL_LOG) | sed 's/^/    /' >&2; \
		exit 1; \
	fi; \
	echo "make: $(2) installed in $$(( $$(date +%s) - start )) s"
endef

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Outbound needs Python >= 3.11, found " + sys.version.split()[0]' 2>/dev/null \
		|| { echo "error: Outbound needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) --version 2>&1 | head -n 1). Give another: make PYTHON=python3.12" >&2; exit 1; }
	@echo "make: installing Outbound's pinned dependencies ($$(grep -c '==' requirements.lock) packages from requirements.lock, about 850 MB) into $(VENV)/"
	@echo "      the first time this takes 2 to 5 minutes, depending on the network; only when the pins change after that"
	@$(PYTHON) -m venv $(VENV) || { echo "error: '$(PYTHON) -m venv $(VENV)' failed (on Debian or Ubuntu: apt install python3-venv)" >&2; exit 1; }
	@: > $(INSTALL_LOG)
	@$(call pip_install,--requirement requirements.lock,the pinned dependencies)
	@$(call pip_install,--no-deps --editable .,outbound (editable))
	@touch $@

$(SPARK_STAMP): $(STAMP) requirements-spark.lock
	@echo "make: installing the Spark extra (dbt-spark and pyspark, a large download: requirements-spark.lock) into $(VENV)/"
	@$(call pip_install,--requirement requirements-spark.lock,the Spark extra)
	@touch $@

# Re-resolve the pinned sets from pyproject.toml's ranges (needs the package index): requirements.lock,
# and requirements-spark.lock with what the Spark extra adds to it.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install -qq --editable '.[test]'
	.lock-venv/bin/python -m pip freeze --exclude-editable > requirements.lock
	.lock-venv/bin/python -m pip install -qq --editable '.[test,spark]' --constraint requirements.lock
	{ echo '# The Spark extra on top of requirements.lock (its pins hold here too): make lock writes both.'; \
	  echo '--constraint requirements.lock'; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable | grep -vxFf requirements.lock; } > requirements-spark.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) warehouse dbt_project/target dbt_project/logs
