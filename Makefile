.PHONY: setup test lint quickstart benchmarks docs

setup:
	bash scripts/setup.sh

test:
	bash scripts/test.sh

lint:
	bash scripts/lint.sh

docs:
	bash scripts/docs.sh

quickstart:
	bash scripts/quickstart.sh

benchmarks: setup
	for b in benchmarks/bench_*.py; do .venv/bin/python $$b || exit 1; done
