"""Tests of the Python client and the CI reporter (clients/python, installed by the README's
test command) against the real service."""
