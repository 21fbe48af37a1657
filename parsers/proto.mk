# parsers/proto.mk - see docs/HACKING.md
