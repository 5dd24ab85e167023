"""rewards subpackage."""
