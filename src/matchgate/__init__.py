"""matchgate: lawful, accounted verification of identities against a taxpayer master file."""

__version__ = "0.1.0"
