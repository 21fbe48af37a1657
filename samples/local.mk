# samples/local.mk - see docs/HACKING.md
