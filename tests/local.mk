# tests/: unit tests (TAP, one check = one test) and end-to-end tests.
