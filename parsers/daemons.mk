# parsers/daemons.mk - see docs/HACKING.md
