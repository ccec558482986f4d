# Shortcuts; the scripts work without make too.
.PHONY: serve test lint
serve:
	./scripts/serve
test:
	./scripts/test
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check webapp tests
