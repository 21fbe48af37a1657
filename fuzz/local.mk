# fuzz/local.mk - libFuzzer targets (see docs/ROBUSTNESS.md)
