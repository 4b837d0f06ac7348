#!/usr/bin/env python3
"""The Python baseline of `make bench`: Centrifugo's HTTP RPC proxy served by aiohttp, doing the
same work as the example app's `tasks.get_stats` (and `system.echo`), written the way a
Django/aiohttp user would write it.

Centrifugo POSTs one JSON object per call to /rpc:
    {"client", "transport", "protocol", "encoding", "user", "method", "data": <the client's JSON>}
and expects {"result": {"data": <JSON>}} or {"error": {"code", "message"}} back.

    python server.py --port 18080      # one process, one event loop, no access log
"""

import argparse
import json

from aiohttp import web

# The same in-memory task store as the Rust example: task id -> {"owner", "done"}.
TASKS: dict[int, dict] = {}


def error(code: int, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}})


def get_stats(user: str, params) -> dict:
    if not isinstance(params, dict) or not isinstance(params.get("user_id"), str):
        raise TypeError("user_id: expected a string")
    uid = params["user_id"]
    total = completed = 0
    for task in TASKS.values():
        if task["owner"] == uid:
            total += 1
            completed += task["done"]
    return {"total": total, "completed": completed}


def echo(user: str, params):
    return params


METHODS = {"tasks.get_stats": get_stats, "system.echo": echo}


async def rpc(request: web.Request) -> web.Response:
    try:
        call = json.loads(await request.read())
    except ValueError as e:
        return error(400, f"malformed JSON: {e}")
    handler = METHODS.get(call.get("method"))
    if handler is None:
        return error(404, "method not found")
    try:
        result = handler(call.get("user", ""), call.get("data"))
    except (TypeError, ValueError) as e:
        return error(422, f"invalid params: {e}")
    return web.json_response({"result": {"data": result}})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=18080)
    args = ap.parse_args()
    app = web.Application()
    app.router.add_post("/rpc", rpc)
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
