"""The accuracy benchmark: matchgate against a plain Splink baseline on generated data."""
