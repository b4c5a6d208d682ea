"""BATS server tests with the official OpenAI Python SDK as the client.

Usage: python sdk_client.py SCENARIO   (env: BATS_BASE_URL = http://127.0.0.1:PORT/v1, BATS_API_KEY)
Prints one JSON object with what the scenario observed; the Swift test (Tests/BATSTests/Server/ServerSDKTests.swift)
checks it against the ledger. Exit status 0 unless the scenario itself crashed.
"""
import asyncio
import json
import os
import sys

import openai
from openai import AsyncOpenAI, OpenAI

BASE = os.environ["BATS_BASE_URL"]
KEY = os.environ.get("BATS_API_KEY", "no-key-needed")


def client(**kw):
    return OpenAI(base_url=BASE, api_key=KEY, **kw)


def chat():
    raw = client().chat.completions.with_raw_response.create(
        model="bats/simple", messages=[{"role": "user", "content": "Quote AAPL"}],
        extra_headers={"X-BATS-Tags": "agent=scanner,symbol=AAPL"})
    c = raw.parse()
    return {"content": c.choices[0].message.content, "model_header": raw.headers.get("x-bats-model"),
            "cost": raw.headers.get("x-bats-cost-usd"), "tier": raw.headers.get("x-bats-tier"),
            "usage": c.usage.model_dump() if c.usage else None, "object": c.object}


def stream():
    text, usage, n = "", None, 0
    with client().chat.completions.create(
            model="bats/task/parse_market_data", messages=[{"role": "user", "content": "Stream a quote"}],
            stream=True, stream_options={"include_usage": True}) as s:
        for chunk in s:
            n += 1
            if chunk.usage:
                usage = chunk.usage.model_dump()
            for ch in chunk.choices:
                text += ch.delta.content or ""
    return {"text": text, "chunks": n, "usage": usage}


def tools():
    c = client().chat.completions.create(
        model="bats/medium", messages=[{"role": "user", "content": "Get the AAPL quote"}],
        tools=[{"type": "function", "function": {"name": "get_quote", "description": "A quote",
                                                 "parameters": {"type": "object", "properties": {"symbol": {"type": "string"}}}}}])
    call = c.choices[0].message.tool_calls[0]
    return {"name": call.function.name, "arguments": json.loads(call.function.arguments), "finish": c.choices[0].finish_reason}


def vision():
    png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    c = client().chat.completions.create(
        model="bats/medium", messages=[{"role": "user", "content": [
            {"type": "text", "text": "What is on this chart?"}, {"type": "image_url", "image_url": {"url": png}}]}])
    return {"content": c.choices[0].message.content, "model": c.model}


def embeddings():
    e = client().embeddings.create(model="text-embedding-3-small", input=["AAPL up", "MSFT down"])
    return {"vectors": [d.embedding for d in e.data], "usage": e.usage.model_dump()}


def images():
    i = client().images.generate(model="gpt-image-1", prompt="a candlestick chart", n=2)
    return {"urls": [d.url for d in i.data]}


def refusal():
    try:
        client().chat.completions.create(model="bats/complex", messages=[{"role": "user", "content": "Analyse the book"}])
        return {"raised": None}
    except openai.RateLimitError as e:
        return {"raised": "RateLimitError", "status": e.status_code, "body": e.body,
                "retry_after": e.response.headers.get("retry-after"), "should_retry": e.response.headers.get("x-should-retry")}


def wrong_key():
    try:
        OpenAI(base_url=BASE, api_key="bats-wrong-key-0000000000").chat.completions.create(
            model="bats/simple", messages=[{"role": "user", "content": "hi"}])
        return {"raised": None}
    except openai.AuthenticationError as e:
        return {"raised": "AuthenticationError", "status": e.status_code, "body": e.body}


def disconnect():
    s = client().chat.completions.create(
        model="bats/simple", messages=[{"role": "user", "content": "Stream slowly"}], stream=True)
    first = None
    for chunk in s:
        if chunk.choices and chunk.choices[0].delta.content:
            first = chunk.choices[0].delta.content
            break
    s.close()  # the client goes away mid-stream
    return {"first": first}


def critical():
    raw = client().chat.completions.with_raw_response.create(
        model="bats/critical", messages=[{"role": "user", "content": "Place the trade"}])
    c = raw.parse()
    return {"model_header": raw.headers.get("x-bats-model"), "content": c.choices[0].message.content}


async def _concurrent():
    ac = AsyncOpenAI(base_url=BASE, api_key=KEY, max_retries=0)
    results = {"ok": 0, "refused": 0, "other": []}

    async def one(i):
        try:
            await ac.chat.completions.create(
                model="bats/medium", messages=[{"role": "user", "content": f"Classify headline {i}"}],
                extra_headers={"X-BATS-Tags": f"agent=agent-{i % 4}"})
            results["ok"] += 1
        except openai.RateLimitError:
            results["refused"] += 1
        except Exception as e:  # noqa: BLE001 - reported to the Swift test
            results["other"].append(repr(e))

    await asyncio.gather(*(one(i) for i in range(64)))
    await ac.close()
    return results


def concurrent():
    return asyncio.run(_concurrent())


if __name__ == "__main__":
    scenario = sys.argv[1]
    print(json.dumps({"scenario": scenario, "openai": openai.__version__, "result": globals()[scenario]()}))
