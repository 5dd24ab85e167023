"""What a discriminator step of GAIL or AIRL logs: :func:`compute_train_stats`.

Also available as ``imitation.algorithms.adversarial.common.compute_train_stats``,
its name in the original release.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch as th


def compute_train_stats(
    disc_logits_expert_is_high: th.Tensor,
    labels_expert_is_one: th.Tensor,
    disc_loss: th.Tensor,
) -> Mapping[str, float]:
    """Statistics of one discriminator step.

    Returns:
        ``disc_loss``, ``disc_acc`` (overall), ``disc_acc_expert``,
        ``disc_acc_gen``, ``disc_entropy`` (mean binary entropy of the
        predictions), ``disc_proportion_expert_true`` and
        ``disc_proportion_expert_pred``, ``n_expert``, ``n_generated``.
    """
    with th.no_grad():
        pred_expert = disc_logits_expert_is_high > 0
        is_expert = labels_expert_is_one > 0
        correct = pred_expert == is_expert
        n_expert = int(is_expert.sum())
        n_gen = len(is_expert) - n_expert
        probs = th.sigmoid(disc_logits_expert_is_high)
        entropy = th.distributions.Bernoulli(probs=probs).entropy().mean()
        acc_expert = correct[is_expert].float().mean() if n_expert else th.tensor(0.0)
        acc_gen = correct[~is_expert].float().mean() if n_gen else th.tensor(0.0)
        return {
            "disc_loss": float(disc_loss),
            "disc_acc": float(correct.float().mean()),
            "disc_acc_expert": float(acc_expert),
            "disc_acc_gen": float(acc_gen),
            "disc_entropy": float(entropy),
            "disc_proportion_expert_pred": float(pred_expert.float().mean()),
            "disc_proportion_expert_true": float(is_expert.float().mean()),
            "n_expert": float(n_expert),
            "n_generated": float(n_gen),
        }
