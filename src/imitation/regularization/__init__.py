"""Regularisers (``regularizers``) and rules adapting their strength (``updaters``)."""
