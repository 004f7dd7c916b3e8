# The two commands of the README, and their helpers. The work is in scripts/.
.PHONY: test demo demo-stop install

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
