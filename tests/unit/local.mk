# cmocka unit tests (included from the top Makefile.am).
UNIT_CFLAGS = $(libiommuown_a_CFLAGS) $(CMOCKA_CFLAGS)
UNIT_LDADD = libiommuown.a $(LIBS_ALL) $(CMOCKA_LIBS)
