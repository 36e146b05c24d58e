# The real-kernel suite (included from the top Makefile.am): make check-vm
