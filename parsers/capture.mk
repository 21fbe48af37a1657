# parsers/capture.mk - see docs/HACKING.md
