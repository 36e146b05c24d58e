# Script tests (included from the top Makefile.am).
SCRIPT_TESTS += \
	tests/fixtures-check.sh \
	tests/cli.sh \
	tests/robustness.sh \
	tests/moves.sh \
	tests/replay-engine.sh \
	tests/snapshot.sh \
	tests/docs.sh \
	tests/layers.sh \
	tests/hostile.sh \
	tests/holders.sh \
	tests/declare.sh \
	tests/ansible.sh \
	tests/scripting.sh \
	tests/screens.sh \
	tests/selectors.sh \
	tests/sriov.sh \
	tests/handoff.sh

EXTRA_DIST += \
	$(SCRIPT_TESTS) \
	tests/lib.sh \
	tests/cli/cases \
	tests/cli/expected \
	tests/fixtures \
	tests/upgrade \
	tests/screens

# A JSON validator for the script tests (json-c, which the tool links anyway).
check_PROGRAMS += tests/jsoncheck
tests_jsoncheck_SOURCES = tests/jsoncheck.c
tests_jsoncheck_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_jsoncheck_LDADD = $(JSONC_LIBS)
