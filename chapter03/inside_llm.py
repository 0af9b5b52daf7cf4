"""Chapter 3's 補充 helpers: parameters per component, the top-k next tokens and temperature, timing the KV cache.

The book's own steps (model.model, model.lm_head, argmax, generate with and without the cache) run in the
notebook's cells, not here; tests/test_chapter03_inside_llm.py executes those cells.
"""

from __future__ import annotations

import statistics
import time

import torch

COMPONENTS = ("embeddings", "attention", "mlp", "norms", "lm_head")


def component_of(parameter_name: str) -> str:
    """Which part of a decoder-only transformer a parameter belongs to."""
    if parameter_name.startswith("lm_head"):
        return "lm_head"
    if "embed" in parameter_name:
        return "embeddings"
    if "self_attn" in parameter_name or ".attn" in parameter_name:
        return "attention"
    if "mlp" in parameter_name:
        return "mlp"
    if "norm" in parameter_name:
        return "norms"
    raise ValueError(f"unknown component for parameter {parameter_name!r}")


def parameter_counts(model: torch.nn.Module) -> dict[str, int]:
    """Parameters per component. A weight shared by two parts (tied embeddings) counts once,
    under the first name it has; ``lm_head`` is then 0."""
    counts = dict.fromkeys(COMPONENTS, 0)
    for name, parameter in model.named_parameters():  # named_parameters() yields a shared tensor once
        counts[component_of(name)] += parameter.numel()
    return counts


def softmax_with_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Probabilities from logits; a low temperature sharpens, a high one flattens."""
    if temperature <= 0:
        raise ValueError("temperature must be > 0 (use argmax for greedy decoding)")
    return torch.softmax(logits.float() / temperature, dim=-1)


def top_k_next_tokens(logits: torch.Tensor, tokenizer, k: int = 10,
                      temperature: float = 1.0) -> list[tuple[str, float]]:
    """The ``k`` most likely next tokens for one position's logits, as (text, probability)."""
    probabilities = softmax_with_temperature(logits, temperature)
    top = torch.topk(probabilities, k)
    return [(tokenizer.decode(int(i)), float(p)) for p, i in zip(top.values, top.indices)]


def plot_top_k(tokenizer, logits: torch.Tensor, temperatures=(0.5, 1.0, 2.0), k: int = 8):
    """One bar chart per temperature of the same top-k tokens' probabilities."""
    import matplotlib.pyplot as plt

    tokens = top_k_next_tokens(logits, tokenizer, k)
    ids = torch.topk(logits, k).indices
    figure, axes = plt.subplots(1, len(temperatures), figsize=(4 * len(temperatures), 3), sharey=True)
    for axis, temperature in zip(axes, temperatures):
        probabilities = softmax_with_temperature(logits, temperature)[ids]
        axis.bar([repr(text) for text, _ in tokens], probabilities.numpy())
        axis.set_title(f"temperature = {temperature}")
        axis.tick_params(axis="x", rotation=60)
    axes[0].set_ylabel("probability")
    figure.tight_layout()
    return figure


@torch.no_grad()
def greedy_generate(model, input_ids: torch.Tensor, max_new_tokens: int, use_cache: bool) -> torch.Tensor:
    """Greedy generation of exactly ``max_new_tokens`` tokens (no early stop), for fair timing."""
    attention_mask = torch.ones_like(input_ids)
    return model.generate(input_ids=input_ids, attention_mask=attention_mask, max_new_tokens=max_new_tokens,
                          min_new_tokens=max_new_tokens, do_sample=False, use_cache=use_cache)


def time_generation(model, input_ids: torch.Tensor, max_new_tokens: int, use_cache: bool,
                    repeats: int = 3) -> tuple[float, torch.Tensor]:
    """Median wall time of ``repeats`` greedy generations, and the generated ids."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        output = greedy_generate(model, input_ids, max_new_tokens, use_cache)
        times.append(time.perf_counter() - started)
    return statistics.median(times), output


def attention_summary(config) -> dict[str, object]:
    """What the config says about attention: heads, key/value heads (GQA), RoPE, context length."""
    heads = config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    rope = getattr(config, "rope_parameters", None) or {}
    return {
        "layers": config.num_hidden_layers,
        "hidden_size": config.hidden_size,
        "attention_heads": heads,
        "key_value_heads": kv_heads,
        "queries_per_kv_head": heads // kv_heads,
        "head_dim": getattr(config, "head_dim", None) or config.hidden_size // heads,
        "rope_theta": rope.get("rope_theta", getattr(config, "rope_theta", None)),
        "context_length": config.max_position_embeddings,
    }
