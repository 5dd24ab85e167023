"""Adversarial imitation: GAIL and AIRL on a shared AdversarialTrainer."""
