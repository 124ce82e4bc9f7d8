# Aliases for ./govops (the repository's command line; README). Run as root.
#   make lab | test | setup | images | lab-up | converge | acceptance | lab-status | lab-down
#   make lab-shell HOST=db1      make molecule SCENARIO=common
HOST ?=
SCENARIO ?=
TARGETS := lab test setup images lab-up converge acceptance lab-status lab-down

.PHONY: help $(TARGETS) lab-shell lint unit syntax molecule
help:
	@./govops help

$(TARGETS):
	@./govops $@

lab-shell:
	@./govops lab-shell $(HOST)

lint unit syntax:
	@./govops test $@

molecule:
	@./govops test molecule $(SCENARIO)
