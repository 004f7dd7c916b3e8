# The two commands of the README, and their helpers. The work is in scripts/.
.PHONY: test demo demo-stop install bench bench-quick bench-floor

# test: install what is missing, start a throwaway cluster, run every test, stop it.
test:
	bash scripts/test.sh

# demo: start (or reuse) the cluster in .pgjobq/, install pgjobq, run the Go demo, stop the server.
demo:
	bash scripts/demo.sh

# demo-stop: stop the demo cluster if it runs and remove it.
demo-stop:
	bash scripts/cluster.sh stop .pgjobq
	rm -rf .pgjobq

install:
	$(MAKE) -C extension install

# bench: pgjobq side by side with River and a plain SKIP LOCKED queue on a throwaway durable
# cluster (the record, about an hour). BENCH_MODE=quick (or make bench-quick): about 3 minutes.
# Table on stdout, progress on stderr, CSV in bench/results/; extra flags in BENCH_FLAGS.
BENCH_MODE ?= full
bench:
	BENCH_MODE=$(BENCH_MODE) bash bench/run.sh $(BENCH_FLAGS)

bench-quick:
	BENCH_MODE=quick bash bench/run.sh $(BENCH_FLAGS)

# bench-floor: where the one-job SQL path can go (pgbench: plain queue, least leased queue,
# pgjobq), about a minute.
bench-floor:
	bash bench/floor.sh
