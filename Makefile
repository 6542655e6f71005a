# The two commands (see README.md): `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
INDEX ?= var/index
HOST ?= 127.0.0.1
PORT ?= 8000

EVAL_DATA ?= ../shared/eval/zalo-wikiqa-2019
EVAL_INDEX ?= var/eval/$(notdir $(EVAL_DATA))
# English questions about real news (eval/vi-news-en); the articles stay outside the repository
NEWS ?= ../shared/corpora/vi-news/articles.jsonl
NEWS_INDEX ?= var/eval/vi-news

.PHONY: run test install install-test lint model index eval eval-sample eval-news bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# the local CPU build of torch, before anything that pulls torch in
	$(BIN)/pip install -q torch==2.13.0

install: $(BIN)/python
	$(BIN)/pip install -q -e .

install-test: $(BIN)/python
	$(BIN)/pip install -q -e '.[test,ray,openvino,openvino-int8]'

model: install
	$(BIN)/tracuu model

index: model
	$(BIN)/tracuu index corpus --index $(INDEX)

run: index
	$(BIN)/tracuu serve --index $(INDEX) --host $(HOST) --port $(PORT)

test: install-test
	bash scripts/ensure-chromium.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

eval: model
	$(BIN)/tracuu index $(EVAL_DATA)/corpus.jsonl --index $(EVAL_INDEX)
	$(BIN)/python scripts/eval_table.py $(EVAL_INDEX) $(EVAL_DATA)/queries.jsonl $(EVAL_DATA)/qrels.tsv \
		--keywords 3 --by-lang $(if $(wildcard $(EVAL_DATA)/answers.jsonl),--answers $(EVAL_DATA)/answers.jsonl)
	$(if $(wildcard $(NEWS)),$(MAKE) --no-print-directory eval-news)

# the English questions of eval/vi-news-en on an index of the vi-news articles ($(NEWS))
eval-news: model
	$(BIN)/tracuu index $(NEWS) --index $(NEWS_INDEX)
	$(BIN)/python scripts/eval_table.py $(NEWS_INDEX) eval/vi-news-en/queries.jsonl eval/vi-news-en/qrels.tsv

# the questions written about corpus/ (eval/sample), in Vietnamese and in English, on the sample index:
# tracuu ranking passages and ranking articles (group=article), with the answer sentence checked (answer@1)
eval-sample: index
	$(BIN)/python scripts/eval_table.py $(INDEX) eval/sample/queries.vi.jsonl eval/sample/qrels.tsv \
		--group passage --group article --answers eval/sample/answers.jsonl --keywords 3
	$(BIN)/python scripts/eval_table.py $(INDEX) eval/sample/queries.en.jsonl eval/sample/qrels.tsv \
		--group passage --group article --answers eval/sample/answers.jsonl

# measures this machine (README "Performance"); BENCH_ARGS="--passages 100000 --json" for one size
bench: model
	$(BIN)/tracuu bench $(BENCH_ARGS)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

clean:
	rm -rf var .cache
