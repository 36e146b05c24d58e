# Script tests (included from the top Makefile.am).
SCRIPT_TESTS += \
	tests/fixtures.sh \
	tests/cli.sh \
	tests/robustness.sh \
	tests/moves.sh \
	tests/docs.sh

EXTRA_DIST += \
	tests/lib.sh \
	tests/cli/cases \
	tests/cli/expected \
	tests/fixtures
