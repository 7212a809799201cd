"""Loss functions of the adversarial game (pure functions of tensors)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["critic_loss", "generator_adversarial_loss", "gradient_penalty", "projected_gradient_penalty",
           "condition_loss"]


def critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Wasserstein critic loss: push real scores up and fake scores down."""
    return fake_scores.mean() - real_scores.mean()


def generator_adversarial_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    return -fake_scores.mean()


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, pac: int,
                     generator: torch.Generator | None = None, weight: float = 10.0,
                     share: float = 1.0) -> torch.Tensor:
    """WGAN-GP penalty (Gulrajani et al. 2017) on interpolates, one mixing weight per pac group.

    ``share`` < 1 estimates the penalty on that share of the (randomly ordered) pac groups only:
    the penalty is an expectation over interpolates, and its double backward pass is the most
    expensive part of a critic step.
    """
    groups = real.shape[0] // pac
    keep = max(1, math.ceil(groups * share)) * pac
    real, fake = real[:keep], fake[:keep]
    n = real.shape[0] // pac
    alpha = torch.rand(n, 1, 1, device=real.device, generator=generator)
    alpha = alpha.expand(n, pac, real.shape[1]).reshape(-1, real.shape[1])
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = critic(mixed).float()
    grads = torch.autograd.grad(scores.sum(), mixed, create_graph=True)[0]
    grads = grads.reshape(-1, pac * real.shape[1])
    return weight * ((grads.norm(2, dim=1) - 1) ** 2).mean()


def projected_gradient_penalty(critic, real: tuple, fake: tuple, pac: int, generator: torch.Generator | None = None,
                               weight: float = 10.0, share: float = 1.0) -> torch.Tensor:
    """:func:`gradient_penalty` of a critic with wide spans (a ``Discriminator`` with
    ``project`` layers), on rows given as ``(narrow, levels)`` (see ``Discriminator.embed``)
    instead of at full width; the same penalty.

    The critic sees a wide span ``x_k`` only through its projection ``P_k x_k``, so on the
    interpolates that projection is the interpolate of the projections, and the gradient with
    respect to ``x_k`` is ``P_k^T g_k`` (``g_k``: the gradient with respect to the projection),
    whose squared norm is ``g_k^T (P_k P_k^T) g_k``: a (rank x rank) product instead of one as
    wide as the span.
    """
    (real_narrow, real_levels), (fake_narrow, fake_levels) = real, fake
    groups = real_narrow.shape[0] // pac
    keep = max(1, math.ceil(groups * share)) * pac
    n = keep // pac
    alpha = torch.rand(n, 1, 1, device=real_narrow.device, generator=generator)
    alpha = alpha.expand(n, pac, 1).reshape(-1, 1)

    def head(levels):
        return levels[:keep] if isinstance(levels, torch.Tensor) else (levels[0][:keep], levels[1][:keep])

    narrow = (alpha * real_narrow[:keep] + (1 - alpha) * fake_narrow[:keep]).requires_grad_(True)
    projected = [alpha * critic.project_levels(k, head(r)) + (1 - alpha) * critic.project_levels(k, head(f))
                 for k, (r, f) in enumerate(zip(real_levels, fake_levels))]
    scores = critic.score(critic.assemble(narrow, projected)).float()
    grads = torch.autograd.grad(scores.sum(), [narrow, *projected], create_graph=True)
    squared = grads[0].float().pow(2).sum(dim=1)
    for k, g in enumerate(grads[1:]):
        w = critic.project[k].weight.float()
        g = g.float()
        squared = squared + ((g @ (w @ w.t())) * g).sum(dim=1)
    norms = squared.reshape(-1, pac).sum(dim=1).clamp_min(1e-12).sqrt()
    return weight * ((norms - 1) ** 2).mean()


def condition_loss(raw: torch.Tensor, col: torch.Tensor, level: torch.Tensor, span_offsets: torch.Tensor,
                   span_widths: torch.Tensor, max_width: int | None = None) -> torch.Tensor:
    """Cross-entropy between the generator's logits for the conditioned column and the asked level.

    Vectorised over rows whose conditioned columns have different widths: the logits are
    gathered into a (B, max_width) block padded with -inf. ``max_width`` is
    ``span_widths.max()``; pass it when calling every step, since reading it from a CUDA tensor
    waits for the device (a host-device sync per step).
    """
    if col.numel() == 0:
        return raw.new_zeros(())
    max_w = int(span_widths.max()) if max_width is None else int(max_width)
    ar = torch.arange(max_w, device=raw.device)
    width = span_widths[col]
    idx = (span_offsets[col].unsqueeze(1) + ar).clamp(max=raw.shape[1] - 1)
    logits = raw.gather(1, idx)
    logits = logits.masked_fill(ar.unsqueeze(0) >= width.unsqueeze(1), float("-inf"))
    return F.cross_entropy(logits, level)
