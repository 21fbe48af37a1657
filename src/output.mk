# src/output.mk - see docs/HACKING.md
