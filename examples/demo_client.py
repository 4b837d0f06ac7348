"""The `make demo` client: real calls over WebSocket through Centrifugo with the official
centrifuge-python SDK, printing what happened at each step.

Usage: demo_client.py WS_URL TOKEN
"""

import asyncio
import json
import sys
from typing import Any

from centrifuge import Client, ReplyError


def show(label: str, value: Any) -> None:
    print(f"  {label:<44} -> {json.dumps(value)}")


async def call(client: Client, method: str, params: Any, timeout: float | None = None) -> Any:
    label = f"rpc {method} {json.dumps(params)}"
    try:
        result = await client.rpc(method, params, timeout=timeout)
        show(label, {"result": result.data})
        return result.data
    except ReplyError as e:
        show(label, {"error": {"code": e.code, "message": e.message, "temporary": e.temporary}})
    except Exception as e:  # noqa: BLE001 - the demo prints every outcome
        show(label, {"client error": f"{type(e).__name__}: {e}"})
    return None


async def main(url: str, token: str) -> None:
    client = Client(url, token=token, timeout=5.0)
    await client.connect()
    await client.ready()
    print("== connected to Centrifugo as user 42 (JWT); calls go Centrifugo -> centrpc over gRPC")
    await call(client, "tasks.create", {"title": "write the README"})
    await call(client, "tasks.create", {"title": "ship it"})
    await call(client, "tasks.complete", {"id": 1})
    await call(client, "tasks.get_stats", {"user_id": "42"})
    await call(client, "system.whoami", None)
    print("== errors arrive typed, with their codes")
    await call(client, "tasks.get_stats", {"user_id": 42})
    await call(client, "tasks.complete", {"id": 999})
    await call(client, "tasks.fail", {"kind": "temporary"})
    await call(client, "tasks.fail", {"kind": "panic"})
    await call(client, "tasks.nope", {})
    await call(client, "tasks.slow", {"ms": 3000}, timeout=0.5)
    await client.disconnect()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
