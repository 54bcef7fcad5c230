"""The soak run (bench/soak.py is its command line; tests/e2e/test_soak.py its short variant)."""
