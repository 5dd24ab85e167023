"""util subpackage."""
