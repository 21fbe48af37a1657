# parsers/logs.mk - see docs/HACKING.md
