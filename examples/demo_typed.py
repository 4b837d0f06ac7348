"""The typed real-time half of `make demo`: the Python client generated from the app's Rust types
(`tasks generate --python`) watches a subscription stream and typed channels while other calls
create and complete tasks, and publishes into a bidirectional stream.

Usage: demo_typed.py WS_URL TOKEN USER  (with the generated package importable as `gen.python`)
"""

import asyncio
import sys

from gen.python import (
    APIClient,
    CentrifugoRPCClient,
    CreateTaskParams,
    Login,
    ProcessParams,
    RPCError,
    TallyAdd,
    TallyParams,
    TaskEvent,
    TaskRef,
    WatchTasks,
    connect_data,
)


def describe(event: TaskEvent) -> str:
    """One line per task event (`TaskEvent` is a union of typed variants, told apart by `type`)."""
    task = event.task
    return f"{type(event).__name__}: task #{task.id} {task.title!r} (owner {task.owner}, done: {task.done})"


async def main(url: str, token: str, user: str) -> None:
    async with CentrifugoRPCClient(url, token) as rpc:
        api = APIClient(rpc)
        print("== typed real time, with the client generated from the Rust types")
        print("   (`tasks generate --python`: every item below is a Pydantic model)")
        async with api.watch_tasks(WatchTasks()) as stream, api.subscribe_tasks(user) as channel:
            print(f"  stream watch:tasks and channel tasks:{user} subscribed; creating and completing tasks...")
            first = await api.tasks_create(CreateTaskParams(title="try the typed stream"))
            await api.tasks_create(CreateTaskParams(title="try the typed channel"))
            await api.tasks_complete(TaskRef(id=first.id))
            seen = 0
            async for event in stream:
                print(f"  stream  watch:tasks   -> {describe(event)}")
                seen += 1
                if seen == 3:
                    break
            seen = 0
            async for event in channel:
                print(f"  channel tasks:{user:<7} -> {describe(event)}")
                seen += 1
                if seen == 3:
                    break
        async with api.subscribe_progress(user) as progress:
            call = asyncio.create_task(api.tasks_process(ProcessParams(steps=5, delay_ms=100)))
            async for step in progress:
                bar = "#" * step.step + "." * (step.of - step.step)
                print(f"  channel #{user:<12} -> Progress [{bar}] {step.step}/{step.of}")
                if step.step == step.of:
                    break
            await call
        async with api.tally("demo", TallyParams(start=10)) as tally:
            for add in (5, -2):
                await tally.publish(TallyAdd(add=add))
            async for total in tally:
                print(f"  bidi    tally:demo    -> {total!r}")
                if total.adds == 2:
                    break
        try:
            async for _ in api.watch_tasks(WatchTasks(owner="someone-else")):
                pass
        except RPCError as e:
            print(f"  stream  watch:tasks of another user -> refused: RPCError {e.code}: {e.message}")

    # Connecting is typed too: without a JWT, the connect hook reads a `Login` and answers with a
    # `Welcome` (the connect reply's data).
    login = connect_data(Login(user="ada", password="centrpc"))
    async with CentrifugoRPCClient(url, "", data=login) as ada:
        welcome = APIClient(ada).connect_reply_data()
        assert welcome is not None
        print(f"  connect Login(user='ada') -> Welcome(user={welcome.user!r}, via={welcome.via!r})")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
