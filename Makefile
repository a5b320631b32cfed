.PHONY: demo test bench
demo:  ## install everything, load demo data, serve on 127.0.0.1:8000
	bash scripts/demo.sh
test:  ## install everything, run the whole test suite on PostgreSQL + Redis
	bash scripts/test.sh
