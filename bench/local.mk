# bench/local.mk - see docs/HACKING.md
