"""Root pytest configuration: shared fixtures live in tests/fixtures.py."""

pytest_plugins = ["tests.fixtures"]
