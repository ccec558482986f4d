# Shortcuts; the scripts work without make too.
.PHONY: serve serve-prod serve-cached test lint
serve:
	./scripts/serve
serve-prod:
	./scripts/serve-prod
serve-cached:
	./scripts/serve-cached
test:
	./scripts/test
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check webapp tests
