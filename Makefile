# Shortcuts; the scripts work without make too.
.PHONY: serve serve-prod test lint
serve:
	./scripts/serve
serve-prod:
	./scripts/serve-prod
test:
	./scripts/test
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check webapp tests
