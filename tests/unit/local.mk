# cmocka unit tests (included from the top Makefile.am).
# (Not named *_LDADD: automake -Wall would take UNIT for a program name.)
UNIT_CFLAGS = $(libiommuown_a_CFLAGS) $(CMOCKA_CFLAGS)
UNIT_LIBS = libiommuown.a $(LIBS_ALL) $(CMOCKA_LIBS)

UNIT_TESTS += tests/unit/test-util
tests_unit_test_util_SOURCES = tests/unit/test-util.c
tests_unit_test_util_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_util_LDADD = $(UNIT_LIBS)

UNIT_TESTS += tests/unit/test-drivers
tests_unit_test_drivers_SOURCES = tests/unit/test-drivers.c
tests_unit_test_drivers_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_drivers_LDADD = $(UNIT_LIBS)

UNIT_TESTS += tests/unit/test-kaccess
tests_unit_test_kaccess_SOURCES = tests/unit/test-kaccess.c tests/unit/tree.h
tests_unit_test_kaccess_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_kaccess_LDADD = $(UNIT_LIBS)

UNIT_TESTS += tests/unit/test-model
tests_unit_test_model_SOURCES = tests/unit/test-model.c tests/unit/tree.h
tests_unit_test_model_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_model_LDADD = $(UNIT_LIBS)

UNIT_TESTS += tests/unit/test-audit
tests_unit_test_audit_SOURCES = tests/unit/test-audit.c
tests_unit_test_audit_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_audit_LDADD = $(UNIT_LIBS)

UNIT_TESTS += tests/unit/test-pciids
tests_unit_test_pciids_SOURCES = tests/unit/test-pciids.c
tests_unit_test_pciids_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_pciids_LDADD = $(UNIT_LIBS)

UNIT_TESTS += tests/unit/test-state
tests_unit_test_state_SOURCES = tests/unit/test-state.c tests/unit/tree.h
tests_unit_test_state_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_state_LDADD = $(UNIT_LIBS)
