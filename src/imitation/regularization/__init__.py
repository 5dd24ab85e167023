"""regularization subpackage."""
