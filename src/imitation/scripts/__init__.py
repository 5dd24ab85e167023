"""scripts subpackage."""
