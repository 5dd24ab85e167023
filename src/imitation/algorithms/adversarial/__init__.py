"""algorithms.adversarial subpackage."""
