# src/input.mk - see docs/HACKING.md
