// End-to-end test of the generated TypeScript client's subscription streams and typed channels
// (tests/codegen_typescript.rs runs it), against the example app behind Centrifugo:
//
//   node out/test_streams.js <ws-url> <token> <user> <metrics-url>
//
// Prints one line per check and a summary; exits non-zero when any check failed. The order
// matters: the metric checks count the `watch:count` streams cancelled so far. For the last check
// it prints `RESTART-APP` and waits for a line on stdin: the test kills and restarts the app in
// between. The `typeChecks` function is never run: its `@ts-expect-error` lines make `tsc` fail
// when the types are too loose.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

import WebSocket from 'ws';

import {
  APIClient,
  BidiStream,
  CentrifugoRPCClient,
  ErrorCodes,
  NOT_SUBSCRIBED_CODE,
  RPCError,
  TypedSubscription,
} from 'tasks-client';
import type { ChatPost, Count, Progress, Tally, TaskEvent } from 'tasks-client';

const [url, token, user, metricsUrl] = process.argv.slice(2);
if (url === undefined || token === undefined || user === undefined || metricsUrl === undefined) {
  console.error('usage: node test_streams.js <ws-url> <token> <user> <metrics-url>');
  process.exit(2);
}

const watchdog = setTimeout(() => {
  console.log('FAIL the test program did not finish within 90 s');
  process.exit(3);
}, 90_000);
watchdog.unref();

let passed = 0;
const failed: string[] = [];

async function check(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
    passed += 1;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed.push(name);
    const detail = e instanceof Error ? (e.stack ?? e.message) : JSON.stringify(e);
    console.log(`FAIL ${name}: ${detail}`);
  }
}

/** Runs `body`, which must throw an RPCError with `code`; returns it. */
async function rejectsWith(code: number, body: () => Promise<unknown>): Promise<RPCError> {
  let outcome: unknown;
  try {
    outcome = { resolved: await body() };
  } catch (e) {
    assert.ok(e instanceof RPCError, `expected an RPCError, got ${String(e)} (${JSON.stringify(e)})`);
    assert.equal(e.code, code, `code of ${e.message}`);
    return e;
  }
  throw new Error(`expected a rejection with code ${code}, got ${JSON.stringify(outcome)}`);
}

/** Every item of `items` until it ends (at most `limit`, then it is left early). */
async function collect<T>(items: AsyncIterable<T>, limit = Infinity): Promise<T[]> {
  const out: T[] = [];
  if (limit <= 0) return out;
  for await (const item of items) {
    out.push(item);
    if (out.length >= limit) break;
  }
  return out;
}

/** The next item of `it`, which must not have ended. */
async function nextOf<T>(it: AsyncIterator<T>): Promise<T> {
  const r = await it.next();
  assert.equal(r.done, false, 'the iteration ended early');
  return r.value as T;
}

/** The value of the sample `name{labels}` in the app's metrics, or 0 when absent. */
async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(metricsUrl!)).text();
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{${labels}} `)) {
      return Number(line.slice(name.length + labels.length + 3));
    }
  }
  return 0;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const rpc = new CentrifugoRPCClient(url!, token!, { websocket: WebSocket, timeout: 5000 });
  await rpc.connect();
  const api = new APIClient(rpc);
  const noSub = (channel: string): void =>
    assert.equal(rpc.centrifuge.getSubscription(channel), null, `${channel} is still registered`);

  await check('watch:count {from: 5, count: 50}: n = 5..54 in order, then the end (2000)', async () => {
    const stream = api.watchCount({ from: 5, count: 50 });
    assert.ok(stream instanceof TypedSubscription);
    const items: Count[] = await collect(stream);
    assert.deepEqual(
      items.map((c) => c.n),
      Array.from({ length: 50 }, (_, i) => i + 5),
    );
    assert.ok(items.every((c) => c.user === user), 'typed items carry the subscriber');
    noSub('watch:count');
  });

  await check('watch:count refused with 422, then subscribed again without a duplicate', async () => {
    const e = await rejectsWith(ErrorCodes.INVALID_PARAMS, () => collect(api.watchCount({ count: 20_000_000 })));
    assert.match(e.message, /at most 10 000 000/);
    noSub('watch:count');
    const again = await collect(api.watchCount({ from: 1, count: 2 }));
    assert.deepEqual(
      again.map((c) => c.n),
      [1, 2],
    );
  });

  await check('watch:count left after 3 items: the server cancels the stream (metrics)', async () => {
    const items = await collect(api.watchCount({ count: 1_000_000, interval_ms: 10 }), 3);
    assert.deepEqual(
      items.map((c) => c.n),
      [0, 1, 2],
    );
    noSub('watch:count');
    const cancelled = 'kind="stream",method="watch:count",outcome="cancelled"';
    const deadline = Date.now() + 10_000;
    let seen = { cancelled: -1, active: -1 };
    for (;;) {
      // An RPC keeps the connection in use: the stream ends by the unsubscribe, not a disconnect.
      assert.equal((await api.systemWhoami()).user, user);
      seen = {
        cancelled: await metric('centrpc_calls_total', cancelled),
        active: await metric('centrpc_streams_active', 'stream="watch:count"'),
      };
      if (seen.cancelled === 1 && seen.active === 0) break;
      assert.ok(Date.now() < deadline, `metrics after 10 s: ${JSON.stringify(seen)}`);
      await sleep(100);
    }
    assert.deepEqual(seen, { cancelled: 1, active: 0 });
  });

  await check('an aborted signal ends the iteration and unsubscribes', async () => {
    const controller = new AbortController();
    const got: number[] = [];
    for await (const c of api.watchCount({ count: 1_000_000, interval_ms: 10 }, { signal: controller.signal })) {
      got.push(c.n);
      if (got.length === 2) controller.abort();
      assert.ok(got.length <= 2, 'no item after the abort');
    }
    assert.deepEqual(got, [0, 1]);
    noSub('watch:count');
    const aborted = new AbortController();
    aborted.abort();
    assert.deepEqual(await collect(api.watchCount({ count: 5 }, { signal: aborted.signal })), []);
  });

  await check('the callback form: onItem, then onEnd; refusal: onError', async () => {
    const seen = await new Promise<number[]>((resolve, reject) => {
      const got: number[] = [];
      const stop = api.onWatchCount({ from: 7, count: 3 }, {
        onItem: (c) => got.push(c.n),
        onError: reject,
        onEnd: () => resolve(got),
      });
      assert.equal(typeof stop, 'function');
    });
    assert.deepEqual(seen, [7, 8, 9]);
    const error = await new Promise<RPCError>((resolve, reject) => {
      api.onWatchCount({ count: 20_000_000 }, { onItem: () => reject(new Error('an item')), onError: resolve, onEnd: () => reject(new Error('ended')) });
    });
    assert.equal(error.code, ErrorCodes.INVALID_PARAMS);
    noSub('watch:count');
    // The returned function unsubscribes: no callback follows.
    let calls = 0;
    const stop = api.onWatchCount({ count: 1_000_000, interval_ms: 10 }, {
      onItem: () => (calls += 1),
      onError: () => (calls += 1000),
      onEnd: () => (calls += 1000),
    });
    await sleep(100);
    stop();
    const at = calls;
    assert.ok(at >= 1 && at < 1000, `calls before stop: ${at}`);
    noSub('watch:count');
    await sleep(100);
    assert.equal(calls, at);
  });

  await check('bidi tally:k1 {start: 10}: publish +5, -2; totals 15 then 13', async () => {
    const tally = api.tally('k1', { start: 10 });
    assert.ok(tally instanceof BidiStream);
    await rejectsWith(NOT_SUBSCRIBED_CODE, () => tally.publish({ add: 1 }));
    const it = tally[Symbol.asyncIterator]();
    await tally.publish({ add: 5 });
    const first: Tally = await nextOf(it);
    await tally.publish({ add: -2 });
    const second: Tally = await nextOf(it);
    assert.deepEqual([first, second], [
      { total: 15, adds: 1, refused: 0 },
      { total: 13, adds: 2, refused: 0 },
    ]);
    await it.return?.();
    noSub('tally:k1');
  });

  await check('bidi in a for-await loop, and its callback form', async () => {
    const tally = api.tally('k2', {});
    const totals: number[] = [];
    const reading = (async () => {
      for await (const t of tally) {
        totals.push(t.total);
        if (totals.length === 2) break;
      }
    })();
    await tally.publish({ add: 3 });
    await tally.publish({ add: 4 });
    await reading;
    assert.deepEqual(totals, [3, 7]);
    const got = await new Promise<number[]>((resolve, reject) => {
      const seen: number[] = [];
      const listener = api.onTally('k3', { start: 100 }, {
        onItem: (t) => {
          seen.push(t.total);
          if (seen.length === 1) listener.publish({ add: -1 }).catch(reject);
          else {
            listener();
            resolve(seen);
          }
        },
        onError: reject,
      });
      listener.publish({ add: 1 }).catch(reject);
    });
    assert.deepEqual(got, [101, 100]);
    noSub('tally:k3');
  });

  await check('watch:tasks sees the 3 tasks the same client creates, in order', async () => {
    const watch = api.watchTasks({ owner: user });
    const it = watch[Symbol.asyncIterator]();
    await watch.ready();
    const titles = ['first', 'second', 'third'];
    for (const title of titles) {
      await api.tasksCreate({ title });
    }
    const events: TaskEvent[] = [];
    for (let i = 0; i < 3; i++) {
      events.push(await nextOf(it));
    }
    await it.return?.();
    assert.deepEqual(
      events.map((e) => [e.type, e.task.title, e.task.owner]),
      titles.map((t) => ['created', t, user]),
    );
    noSub('watch:tasks');
  });

  await check('chat:room1: publish and receive a ChatPost; 1422 for an empty text; 422 for a wrong shape', async () => {
    const chat = api.subscribeChat('room1');
    const it = chat[Symbol.asyncIterator]();
    await chat.ready();
    await api.publishChat('room1', { text: 'hi' });
    const post: ChatPost = await nextOf(it);
    assert.deepEqual(post, { text: 'hi', from: user });
    const refused = await rejectsWith(1422, () => api.publishChat('room1', { text: '' }));
    assert.equal(refused.message, 'text must be 1 to 500 characters');
    // Bypassing the types, straight through centrifuge-js.
    let raw: unknown = null;
    try {
      await rpc.centrifuge.publish('chat:room1', { text: 5 });
    } catch (e) {
      raw = e;
    }
    assert.equal((raw as { code?: number } | null)?.code, 422, JSON.stringify(raw));
    await it.return?.();
    noSub('chat:room1');
  });

  await check(`tasks:${user} receives TaskEvent created on tasks.create`, async () => {
    const tasks = api.subscribeTasks(user!);
    const it = tasks[Symbol.asyncIterator]();
    await tasks.ready();
    const task = await api.tasksCreate({ title: 'on the channel' });
    const event: TaskEvent = await nextOf(it);
    assert.deepEqual(event, { type: 'created', task });
    await it.return?.();
    noSub(`tasks:${user}`);
  });

  await check("another user's tasks channel is refused with the app's 1403", async () => {
    await rejectsWith(1403, () => collect(api.subscribeTasks(`not-${user}`)));
    noSub(`tasks:not-${user}`);
  });

  await check(`progress (#${user}) receives the Progress of tasks.process`, async () => {
    const progress = api.subscribeProgress(user!);
    const it = progress[Symbol.asyncIterator]();
    await progress.ready();
    const result = await api.tasksProcess({ steps: 3, delay_ms: 10 });
    assert.equal(result.channel, `#${user}`);
    const got: Progress[] = [];
    for (let i = 0; i < 3; i++) got.push(await nextOf(it));
    assert.deepEqual(got, [
      { step: 1, of: 3 },
      { step: 2, of: 3 },
      { step: 3, of: 3 },
    ]);
    await it.return?.();
    noSub(`#${user}`);
  });

  await check('a subscription on a disconnected client fails at once', async () => {
    const other = new CentrifugoRPCClient(url!, token!, { websocket: WebSocket });
    await rejectsWith(3, () => collect(new APIClient(other).watchCount({ count: 1 })));
  });

  await check('a disconnect ends an iteration in progress with an error', async () => {
    const other = new CentrifugoRPCClient(url!, token!, { websocket: WebSocket });
    await other.connect();
    const e = await rejectsWith(3, async () => {
      for await (const c of new APIClient(other).watchCount({ count: 1_000_000, interval_ms: 10 })) {
        if (c.n === 1) other.disconnect();
      }
    });
    assert.equal(e.message, 'client disconnected');
  });

  await check('a stream error (the app is killed and restarted): the SDK resubscribes, the new stream goes on', async () => {
    const it = api.watchCount({ from: 100, count: 1_000_000, interval_ms: 20 })[Symbol.asyncIterator]();
    const before: number[] = [];
    for (let i = 0; i < 3; i++) before.push((await nextOf(it)).n);
    assert.deepEqual(before, [100, 101, 102]);
    const lines = createInterface({ input: process.stdin });
    console.log('RESTART-APP');
    await once(lines, 'line');
    lines.close();
    // Items of the old stream may still be on their way; then the new stream starts over at 100.
    const deadline = Date.now() + 20_000;
    let last = 102;
    for (;;) {
      const n = (await nextOf(it)).n;
      if (n === 100) break;
      assert.equal(n, last + 1, 'the old stream in order');
      last = n;
      assert.ok(Date.now() < deadline, 'no new stream within 20 s');
    }
    assert.deepEqual([(await nextOf(it)).n, (await nextOf(it)).n], [101, 102]);
    await it.return?.();
    noSub('watch:count');
  });

  rpc.disconnect();
  console.log(`\n${passed} passed, ${failed.length} failed`);
  if (failed.length > 0) {
    console.log(`FAILED: ${failed.join('; ')}`);
  }
  process.exit(failed.length === 0 ? 0 : 1);
}

/** Never called: `tsc` fails when a line marked `@ts-expect-error` compiles. */
export function typeChecks(api: APIClient): void {
  // @ts-expect-error count is required
  void api.watchCount({ from: 1 });
  // @ts-expect-error a keyed stream takes its key first
  void api.tally({ start: 1 });
  // @ts-expect-error the items are typed
  const items: AsyncIterable<TaskEvent> = api.watchCount({ count: 1 });
  // @ts-expect-error a uni stream cannot publish
  void api.watchCount({ count: 1 }).publish({ add: 1 });
  // @ts-expect-error the publication is typed
  void api.tally('k', {}).publish({ add: '1' });
  // @ts-expect-error a ChatMessage has a text
  void api.publishChat('room', { txt: 'x' });
  // @ts-expect-error the tasks channel takes no publications
  void api.publishTasks('u', {});
  // @ts-expect-error onItem gets a Count
  api.onWatchCount({ count: 1 }, { onItem: (c: TaskEvent) => c });
  const stop: () => void = api.onWatchTasks({}, { onItem: (e) => void e.task.id });
  void [items, stop];
}

await main();
