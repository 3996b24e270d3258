"""LLM provider overhead: tokens/s through ``LlamaCppProvider`` vs raw ``llama_cpp.Llama``.

    .venv/bin/python bench/llm_bench.py [--model FILE.gguf] [--runs 10] [--max-tokens 96]

Same GGUF, same chat prompt, same settings, same run; raw and provider calls alternate so
that load from other processes falls on both alike. Each side has its own loaded context
(llama.cpp reuses a matching prompt prefix, so repeated runs measure generation). Reports
median and p95 of generated tokens per second, and the provider/raw ratio of the medians
(target >= 0.95). ``--stream`` adds the provider's async streaming path, ``--service`` the
whole LLMService path (policy, prompt fitting, health; cache off).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time
from pathlib import Path

from llama_cpp import Llama

from companion.llm.locate import resolve_model_path
from companion.llm.policies import PolicyBook
from companion.llm.providers.llamacpp import LlamaCppProvider, LlamaModels
from companion.llm.service import LLMService, ProviderRegistry

PROMPT = [
    {"role": "system", "content": "You are a helpful assistant for a trading company."},
    {"role": "user", "content": "Write a detailed story about a warehouse in Dhaka."},
]


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def raw_run(llama: Llama, max_tokens: int) -> float:
    """Tokens per second of one raw chat completion."""
    started = time.perf_counter()
    reply = llama.create_chat_completion(
        messages=PROMPT,  # type: ignore[arg-type]
        max_tokens=max_tokens,
        temperature=0.0,
    )
    elapsed = time.perf_counter() - started
    return int(reply["usage"]["completion_tokens"]) / elapsed  # type: ignore[index]


def provider_run(provider: LlamaCppProvider, max_tokens: int) -> float:
    """Tokens per second of one generation through the provider."""
    started = time.perf_counter()
    generation = provider.generate(PROMPT, max_tokens=max_tokens, temperature=0.0)
    return generation.tokens_out / (time.perf_counter() - started)


def service_run(service: LLMService, max_tokens: int) -> float:
    """Tokens per second through LLMService (policy, truncation, health; cache off)."""
    started = time.perf_counter()
    generation = service.generate("summarize", "bench", PROMPT)
    return generation.tokens_out / (time.perf_counter() - started)


def stream_run(provider: LlamaCppProvider, max_tokens: int) -> float:
    """Tokens per second of one streamed generation through the provider (pieces/s)."""

    async def run() -> int:
        count = 0
        async for _ in provider.stream(PROMPT, max_tokens=max_tokens, temperature=0.0):
            count += 1
        return count

    started = time.perf_counter()
    count = asyncio.run(run())
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="GGUF (default: bundled)")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--stream", action="store_true", help="also time provider.stream")
    parser.add_argument("--service", action="store_true", help="also time LLMService.generate")
    args = parser.parse_args()

    path = resolve_model_path(args.model)
    raw = Llama(model_path=str(path), n_ctx=args.n_ctx, n_threads=args.threads, verbose=False)
    provider = LlamaCppProvider(
        path, models=LlamaModels(), n_ctx=args.n_ctx, n_threads=args.threads
    )
    policies = PolicyBook(
        [
            {
                "use_cases": {
                    "summarize": {
                        "max_tokens": args.max_tokens,
                        "temperature": 0.0,
                        "cache_ttl_s": 0,
                        "timeout_s": 600,
                    }
                }
            }
        ]
    )
    service = LLMService(ProviderRegistry({"default": lambda: provider}), policies)
    # Warm both (first-call allocations, prompt cache) before timing.
    raw_run(raw, 8)
    provider_run(provider, 8)
    if args.stream:
        stream_run(provider, 8)

    raw_tps: list[float] = []
    provider_tps: list[float] = []
    stream_tps: list[float] = []
    service_tps: list[float] = []
    for index in range(args.runs):
        # Alternate which goes first, so drift in machine load falls on both sides alike.
        if index % 2 == 0:
            raw_tps.append(raw_run(raw, args.max_tokens))
            provider_tps.append(provider_run(provider, args.max_tokens))
        else:
            provider_tps.append(provider_run(provider, args.max_tokens))
            raw_tps.append(raw_run(raw, args.max_tokens))
        if args.stream:
            stream_tps.append(stream_run(provider, args.max_tokens))
        if args.service:
            service_tps.append(service_run(service, args.max_tokens))

    print(f"model      {path.name} ({path.stat().st_size / 1e6:.0f} MB)")
    print(
        f"machine    {platform.machine()}, {os.cpu_count()} cores, load "
        f"{os.getloadavg()[0]:.2f}; n_threads={args.threads or 'default'}, "
        f"runs={args.runs}, max_tokens={args.max_tokens}"
    )
    rows = [("raw Llama", raw_tps), ("provider", provider_tps)]
    if args.stream:
        rows.append(("provider.stream", stream_tps))
    if args.service:
        rows.append(("LLMService", service_tps))
    print(f"{'path':<16}{'median tok/s':>14}{'p95 tok/s':>12}{'min':>8}{'max':>8}")
    for name, values in rows:
        print(
            f"{name:<16}{statistics.median(values):>14.1f}{p95(values):>12.1f}"
            f"{min(values):>8.1f}{max(values):>8.1f}"
        )
    ratio = statistics.median(provider_tps) / statistics.median(raw_tps)
    paired = statistics.median(p / r for p, r in zip(provider_tps, raw_tps, strict=True))
    print(f"ratio provider/raw (medians) {ratio:.3f}; paired median {paired:.3f} (target >= 0.95)")
    if args.stream:
        stream_ratio = statistics.median(stream_tps) / statistics.median(raw_tps)
        print(f"ratio stream/raw (medians)   {stream_ratio:.3f}")
    if args.service:
        service_ratio = statistics.median(service_tps) / statistics.median(raw_tps)
        print(f"ratio service/raw (medians)  {service_ratio:.3f}")


if __name__ == "__main__":
    main()
