# parsers/proto2.mk - see docs/HACKING.md
