"""One function per REST endpoint, each returning the Operation that calls it."""
