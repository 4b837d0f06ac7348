// End-to-end test of the generated TypeScript client (tests/codegen_typescript.rs runs it): the
// package generated for the example app, built with its own `tsc` build, imported by its package
// name as Node 20 ESM, with `ws` as the WebSocket, against the example app behind Centrifugo.
//
//   node out/test_generated.js <ws-url> <token for user 42> <samples.json>
//
// samples.json holds the zero, minimal and maximal sample of every named type, each with what
// types.echo answers to it ([{"type", "sample", "value", "expected"}]), which the Rust test writes
// from the code generator's samples. They are the JS-safe samples: a 64-bit integer beyond
// 2^53 − 1 is no JavaScript number (JSON.parse rounds it), so their integers are clamped to
// ±(2^53 − 1).
//
// Calls every method, every error outcome and every type construct; prints one line per check
// and a summary; exits non-zero when any check failed. The `typeChecks` function is never run:
// its `@ts-expect-error` lines make `tsc` fail when the generated types are too loose.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import WebSocket from 'ws';

import {
  ABORTED_CODE,
  APIClient,
  AppErrorCodes,
  CentrifugoRPCClient,
  connectData,
  DEFAULT_TIMEOUT_MS,
  ErrorCodes,
  RESULT_CODE,
  RPCAbortedError,
  RPCError,
  RPCResultError,
  RPCTimeoutError,
  TIMEOUT_CODE,
  validate,
} from 'tasks-client';
import type {
  AppErrorCode,
  CallOptions,
  Color,
  Command,
  Event,
  EventInput,
  Everything,
  EverythingInput,
  Inner,
  InnerInput,
  Scalar,
  Shape,
  TaskStatsResult,
  TypedValue,
  TypedValueInput,
  WhoAmI,
} from 'tasks-client';

const [url, token, samplesPath] = process.argv.slice(2);
if (url === undefined || token === undefined || samplesPath === undefined) {
  console.error('usage: node test_generated.js <ws-url> <token> <samples.json>');
  process.exit(2);
}

/** One sample of a named type, with what `types.echo` answers to it (under the type's name). */
interface SampleCase {
  type: string;
  sample: 'zero' | 'min' | 'max';
  value: unknown;
  expected: unknown;
}

const samples = JSON.parse(readFileSync(samplesPath, 'utf8')) as SampleCase[];

const watchdog = setTimeout(() => {
  console.log('FAIL the test program did not finish within 60 s');
  process.exit(3);
}, 60_000);
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

/** Awaits `p`, which must reject with an error of class `cls` and the given fields. */
async function rejects(
  p: Promise<unknown>,
  expected: { code: number; message?: string; temporary: boolean },
  cls: new (...args: never[]) => RPCError = RPCError,
): Promise<RPCError> {
  let outcome: unknown;
  try {
    outcome = { resolved: await p };
  } catch (e) {
    assert.ok(e instanceof cls, `expected a ${cls.name}, got ${String(e)} (${JSON.stringify(e)})`);
    assert.ok(e instanceof Error, 'RPCError is an Error');
    if (cls === RPCError) {
      assert.ok(!(e instanceof RPCTimeoutError), `expected no timeout, got ${e.message}`);
    }
    const got = { code: e.code, message: e.message, temporary: e.temporary };
    assert.deepEqual(
      expected.message === undefined ? { ...got, message: undefined } : got,
      { ...expected, message: expected.message },
    );
    return e;
  }
  throw new Error(`expected a rejection, got ${JSON.stringify(outcome)}`);
}

const inner = (i: InnerInput): Inner => ({ label: i.label, weight: i.weight ?? null });

const eventOut = (e: EventInput): Event =>
  e.type === 'created' ? { type: 'created', data: inner(e.data) } : e;

/** What `types.roundtrip` returns for `v`: the same, with the server's defaults filled in. */
function expectedOf(v: EverythingInput): Everything {
  const { omittedWhenNone, withDefault, maybe, maybeBytes, nullableDefault, nested, items, event, innerPage, wordPage, ...rest } = v;
  const out: Everything = {
    ...rest,
    maybe: maybe ?? null,
    maybeBytes: maybeBytes ?? null,
    // Left out, the server's default is 3; `null` is a value of its own.
    nullableDefault: nullableDefault === undefined ? 3 : nullableDefault,
    withDefault: withDefault ?? 7,
    nested: inner(nested),
    items: items.map(inner),
    event: eventOut(event),
    // Left out, a page is the server's empty one; a left-out cursor is `null`.
    innerPage: { items: (innerPage?.items ?? []).map(inner), nextCursor: innerPage?.nextCursor ?? null },
    wordPage: { items: wordPage?.items ?? [], nextCursor: wordPage?.nextCursor ?? null },
  };
  if (omittedWhenNone !== undefined && omittedWhenNone !== null) {
    out.omittedWhenNone = omittedWhenNone;
  }
  return out;
}

const base: EverythingInput = {
  text: 'héllo "wörld"\n\t✓ </script> */',
  count: -2147483648,
  ratio: 0.1,
  flag: true,
  bigSigned: Number.MAX_SAFE_INTEGER,
  bigUnsigned: Number.MAX_SAFE_INTEGER,
  maybe: 'here',
  withDefault: 3,
  omittedWhenNone: 'present',
  tags: ['a', 'b', ''],
  scores: { x: 1.5, 'y z': -2, '': 0 },
  byId: { 7: 'seven', 0: 'zero', 4294967295: 'max' },
  byOffset: { [-3]: -1.5, [2 ** 40]: 2.5, [Number.MIN_SAFE_INTEGER]: 0.25 },
  byColor: { red: 1, dark_blue: 4294967295 },
  nested: { label: 'nested', weight: 2.5 },
  items: [{ label: 'i1', weight: null }, { label: 'i2' }, { label: 'i3', weight: 1e-7 }],
  color: 'red',
  shape: { kind: 'circle', radius: 1.5 },
  event: { type: 'created', data: { label: 'created', weight: 1 } },
  command: 'Start',
  scalar: 3.25,
  id: 42,
  when: '2024-05-01T12:34:56.789Z',
  uuid: '67e55044-10b1-426f-9247-bb680e5fe0c8',
  extra: { nested: [1, 'two', null, { three: true }], n: -1.5 },
  from: 'alice',
  type: 'keyword',
  bytes: [0, 1, 127, 128, 255],
  maybeBytes: [],
  nullableDefault: 5,
  innerPage: { items: [{ label: 'paged', weight: 0.5 }, { label: 'unweighted' }], nextCursor: 'c2' },
  wordPage: { items: ['w', ''] },
};

/** Values covering every variant of Shape, Event, Command and Scalar and both Colors. */
const roundtrips: [string, EverythingInput][] = [
  ['circle, created, Start, number, red, every optional given', base],
  [
    'rect, deleted, Stop, text, dark_blue, nulls and defaults left out',
    {
      ...base,
      count: 2147483647,
      bigSigned: -Number.MAX_SAFE_INTEGER,
      bigUnsigned: 0,
      maybe: null,
      withDefault: undefined,
      omittedWhenNone: null,
      maybeBytes: null,
      nullableDefault: null,
      innerPage: undefined,
      wordPage: undefined,
      bytes: [],
      color: 'dark_blue',
      shape: { kind: 'rect', w: 2, h: 3.5 },
      event: { type: 'deleted', data: { id: Number.MAX_SAFE_INTEGER } },
      command: { Stop: { force: true } },
      scalar: 'text',
      extra: null,
      when: '1970-01-01T00:00:00Z',
    },
  ],
  [
    'empty, ping, Rename, words, optional keys absent',
    (() => {
      const { maybe: _m, withDefault: _w, omittedWhenNone: _o, maybeBytes: _b, nullableDefault: _n, ...v } = base;
      return {
        ...v,
        nested: { label: 'no weight' },
        items: [],
        tags: [],
        scores: {},
        byId: {},
        byOffset: {},
        byColor: {},
        shape: { kind: 'empty' },
        event: { type: 'ping' },
        command: { Rename: 'new name' },
        scalar: ['w1', 'w2'],
        extra: 'just a string',
        flag: false,
        ratio: -1234.5678,
      };
    })(),
  ],
  [
    'Stop without force, number scalar that is whole',
    { ...base, command: { Stop: { force: false } }, scalar: 7, extra: [] },
  ],
];

async function main(): Promise<void> {
  await check('a refused connection rejects with the disconnect code', async () => {
    const bad = new CentrifugoRPCClient(url!, 'not-a-valid-token', { websocket: WebSocket, timeout: 3000 });
    const e = await rejects(bad.connect(), { code: 3500, message: 'invalid token', temporary: false });
    assert.equal(e.name, 'RPCError');
    assert.equal(bad.connected, false);
  });

  await check('typed connect data logs in, and the connect reply data comes back typed', async () => {
    const carol = new CentrifugoRPCClient(url!, '', {
      websocket: WebSocket,
      timeout: 3000,
      data: connectData({ user: 'carol', password: 'centrpc' }),
    });
    await carol.connect();
    const api = new APIClient(carol);
    assert.equal((await api.systemWhoami()).user, 'carol');
    const welcome = api.connectReplyData();
    assert.equal(welcome?.user, 'carol');
    assert.equal(welcome?.via, 'connect_data');
    assert.ok((welcome?.expires_at ?? 0) > Date.now() / 1000);
    carol.disconnect();
  });

  await check('connect data the server cannot read is refused with its 422', async () => {
    const bad = new CentrifugoRPCClient(url!, '', { websocket: WebSocket, timeout: 3000, data: { user: 'dan' } });
    await rejects(bad.connect(), { code: 422, temporary: false });
    assert.equal(bad.connected, false);
  });

  await check('a login the connect hook refuses rejects with its disconnect code', async () => {
    const data = connectData({ user: 'mallory', password: 'wrong' });
    const bad = new CentrifugoRPCClient(url!, '', { websocket: WebSocket, timeout: 3000, data });
    await rejects(bad.connect(), { code: 4503, message: 'invalid credentials', temporary: false });
    assert.equal(bad.connected, false);
  });

  const rpc = new CentrifugoRPCClient(url!, token!, { websocket: WebSocket, timeout: 5000 });
  const publications: unknown[] = [];
  await check('connect', async () => {
    await rpc.connect();
    assert.equal(rpc.connected, true);
    await rpc.connect(); // connecting again is a no-op
  });
  const api = new APIClient(rpc);
  assert.equal(api.rpc, rpc);

  await check('tasks.get_stats (before any task)', async () => {
    const stats: TaskStatsResult = await api.tasksGetStats({ user_id: '42' });
    assert.deepEqual(stats, { total: 0, completed: 0 });
  });

  let taskId = 0;
  await check('tasks.create', async () => {
    const task = await api.tasksCreate({ title: '  write the TypeScript client  ' });
    assert.deepEqual({ ...task, id: 0 }, { id: 0, title: 'write the TypeScript client', done: false, owner: '42' });
    assert.ok(Number.isInteger(task.id) && task.id > 0);
    taskId = task.id;
  });

  await check('tasks.create with an empty title: app error 1001', async () => {
    await rejects(api.tasksCreate({ title: '   ' }), {
      code: 1001,
      message: 'title must be 1 to 200 characters',
      temporary: false,
    });
  });

  await check('tasks.complete', async () => {
    const task = await api.tasksComplete({ id: taskId });
    assert.deepEqual(task, { id: taskId, title: 'write the TypeScript client', done: true, owner: '42' });
  });

  await check('tasks.complete of a missing task: app error 1004', async () => {
    await rejects(api.tasksComplete({ id: Number.MAX_SAFE_INTEGER }), {
      code: AppErrorCodes.TASK_NOT_FOUND,
      message: 'task not found',
      temporary: false,
    });
  });

  await check('tasks.get_stats (after)', async () => {
    assert.deepEqual(await api.tasksGetStats({ user_id: '42' }), { total: 1, completed: 1 });
    assert.deepEqual(await api.tasksGetStats({ user_id: 'nobody' }), { total: 0, completed: 0 });
  });

  await check('tasks.fail app: 1500', async () => {
    await rejects(api.tasksFail({ kind: 'app' }), { code: AppErrorCodes.DEMO_FAILURE, message: 'demo failure', temporary: false });
  });
  await check('tasks.fail temporary: 1500, temporary', async () => {
    await rejects(api.tasksFail({ kind: 'temporary' }), {
      code: 1500,
      message: 'demo failure, try again',
      temporary: true,
    });
  });
  await check('tasks.fail internal: sanitised 500', async () => {
    await rejects(api.tasksFail({ kind: 'internal' }), {
      code: ErrorCodes.INTERNAL,
      message: 'internal error',
      temporary: false,
    });
  });
  await check('tasks.fail panic: sanitised 500', async () => {
    const e = await rejects(api.tasksFail({ kind: 'panic' }), {
      code: 500,
      message: 'internal error',
      temporary: false,
    });
    assert.ok(!e.message.includes('hunter2'));
  });

  await check('tasks.slow (short) succeeds', async () => {
    assert.deepEqual(await api.tasksSlow({ ms: 50 }, { timeout: 3000 }), { slept_ms: 50 });
  });

  await check('tasks.slow past the per-call timeout: RPCTimeoutError', async () => {
    const started = Date.now();
    const e = await rejects(
      api.tasksSlow({ ms: 3000 }, { timeout: 200 }),
      { code: TIMEOUT_CODE, temporary: true },
      RPCTimeoutError,
    );
    const took = Date.now() - started;
    assert.equal(e.code, 1);
    assert.equal(e.name, 'RPCTimeoutError');
    assert.ok(e instanceof RPCError, 'RPCTimeoutError extends RPCError');
    assert.ok(took >= 150 && took < 2000, `gave up after ${took} ms`);
    // The connection is still usable.
    assert.deepEqual(await api.tasksSlow({ ms: 1 }), { slept_ms: 1 });
  });

  await check('the default timeout is 5 s', async () => {
    assert.equal(DEFAULT_TIMEOUT_MS, 5000);
    assert.equal(new CentrifugoRPCClient(url!, token!, { websocket: WebSocket }).timeout, 5000);
  });

  await check("a per-call timeout longer than the client's succeeds; the client's applies otherwise", async () => {
    const quick = new CentrifugoRPCClient(url!, token!, { websocket: WebSocket, timeout: 300 });
    try {
      await quick.connect();
      const quickApi = new APIClient(quick);
      assert.deepEqual(await quickApi.tasksSlow({ ms: 600 }, { timeout: 3000 }), { slept_ms: 600 });
      const started = Date.now();
      await rejects(quickApi.tasksSlow({ ms: 2000 }), { code: TIMEOUT_CODE, temporary: true }, RPCTimeoutError);
      assert.ok(Date.now() - started < 1500, 'cut to the client timeout');
    } finally {
      quick.disconnect();
    }
  });

  await check('an aborted signal rejects the call with RPCAbortedError (the reason as cause)', async () => {
    const controller = new AbortController();
    const reason = new Error('user navigated away');
    setTimeout(() => controller.abort(reason), 100);
    const started = Date.now();
    const e = await rejects(
      api.tasksSlow({ ms: 2000 }, { signal: controller.signal }),
      { code: ABORTED_CODE, temporary: false },
      RPCAbortedError,
    );
    assert.ok(Date.now() - started < 1000, 'rejected at the abort');
    assert.equal(e.cause, reason);
    assert.equal(e.name, 'RPCAbortedError');
    await rejects(
      api.systemWhoami({ signal: AbortSignal.abort() }),
      { code: ABORTED_CODE, temporary: false },
      RPCAbortedError,
    );
    assert.deepEqual(await api.tasksSlow({ ms: 1 }, { signal: new AbortController().signal }), { slept_ms: 1 });
  });

  await check("an error reply keeps centrifuge-js's error as cause", async () => {
    const e = await rejects(api.tasksFail({ kind: 'app' }), { code: 1500, message: 'demo failure', temporary: false });
    assert.equal((e.cause as { code?: unknown } | undefined)?.code, 1500);
  });

  await check('retry: idempotent methods only, temporary errors only, at most `attempts` calls', async () => {
    const retrying = new CentrifugoRPCClient(url!, token!, {
      websocket: WebSocket,
      retry: { attempts: 3, backoffMs: 50, maxBackoffMs: 200 },
    });
    try {
      await retrying.connect();
      const withRetry = new APIClient(retrying);
      const key = () => `k${Math.random()}`;
      let k = key();
      assert.deepEqual(await withRetry.tasksFlaky({ key: k, failures: 2 }), { attempt: 3 }, 'retried past 2 failures');
      k = key();
      await rejects(withRetry.tasksFlaky({ key: k, failures: 5 }), { code: 1501, temporary: true });
      assert.deepEqual(await api.tasksFlaky({ key: k, failures: 0 }), { attempt: 4 }, 'exactly 3 attempts');
      k = key();
      await rejects(api.tasksFlaky({ key: k, failures: 1 }), { code: 1501, temporary: true });
      k = key();
      await rejects(withRetry.tasksFlakyUnsafe({ key: k, failures: 1 }), { code: 1501, temporary: true });
      assert.deepEqual(await api.tasksFlaky({ key: k, failures: 0 }), { attempt: 2 }, 'the non-idempotent method ran once');
    } finally {
      retrying.disconnect();
    }
  });

  await check('retry: an abort stops the retries, during the backoff too', async () => {
    const patient = new CentrifugoRPCClient(url!, token!, {
      websocket: WebSocket,
      retry: { attempts: 3, backoffMs: 5000, maxBackoffMs: 5000 },
    });
    try {
      await patient.connect();
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 500);
      const started = Date.now();
      const k = `k${Math.random()}`;
      await rejects(
        new APIClient(patient).tasksFlaky({ key: k, failures: 5 }, { signal: controller.signal }),
        { code: ABORTED_CODE, temporary: false },
        RPCAbortedError,
      );
      assert.ok(Date.now() - started < 3000, 'not waiting out the backoff');
      assert.deepEqual(await api.tasksFlaky({ key: k, failures: 0 }), { attempt: 2 }, 'one attempt before the abort');
    } finally {
      patient.disconnect();
    }
  });

  await check('tasks.process publishes progress to #42', async () => {
    // The centrifuge-js client underneath serves subscriptions.
    const personal = rpc.centrifuge.newSubscription('#42');
    personal.on('publication', (ctx) => publications.push(ctx.data));
    personal.subscribe();
    await personal.ready(3000);
    const result = await api.tasksProcess({ steps: 3, delay_ms: 10 });
    assert.deepEqual(result, { steps: 3, channel: '#42' });
    const deadline = Date.now() + 3000;
    while (publications.length < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(publications, [
      { step: 1, of: 3 },
      { step: 2, of: 3 },
      { step: 3, of: 3 },
    ]);
  });

  await check('tasks.process with 0 steps: 422', async () => {
    await rejects(api.tasksProcess({ steps: 0 }), {
      code: ErrorCodes.INVALID_PARAMS,
      message: 'invalid params: steps must be 1 to 100',
      temporary: false,
    });
  });

  await check('system.whoami (no params)', async () => {
    const me: WhoAmI = await api.systemWhoami();
    assert.equal(me.user, '42');
    assert.equal(me.transport, 'websocket');
    assert.equal(me.protocol, 'json');
    assert.equal(me.encoding, 'json');
    assert.ok(me.client.length > 0);
    assert.equal(me.meta, null);
    const opts: CallOptions = { timeout: 2000 };
    assert.deepEqual(await api.systemWhoami(opts), me);
  });

  await check('system.echo (any JSON)', async () => {
    for (const v of [{ a: [1, 'x', null, true, { b: -0.5 }] }, 'text', 12345, [], null, false]) {
      assert.deepEqual(await api.systemEcho(v), v);
    }
  });

  for (const [name, value] of roundtrips) {
    await check(`types.roundtrip: ${name}`, async () => {
      const got: Everything = await api.typesRoundtrip(value);
      assert.deepEqual(got, expectedOf(value));
    });
  }

  await check('types.echo samples: zero, min and max of every type', async () => {
    const kinds = new Map<string, string[]>();
    for (const c of samples) {
      kinds.set(c.type, [...(kinds.get(c.type) ?? []), c.sample]);
    }
    assert.ok(kinds.size > 0, 'some types');
    assert.deepEqual(
      [...kinds].filter(([, k]) => k.join() !== 'zero,min,max'),
      [],
    );
  });
  for (const c of samples) {
    await check(`types.echo ${c.type} ${c.sample}: comes back as the server wrote it`, async () => {
      // The sample as a value of the params' type; the client checks the result against its own.
      const value = { [c.type]: c.value } as TypedValueInput;
      const got: TypedValue = await api.typesEcho(value);
      assert.deepEqual(got, { [c.type]: c.expected });
    });
  }

  await check('types.roundtrip: 2^53 − 1 stays exact', async () => {
    const got = await api.typesRoundtrip(base);
    assert.equal(got.bigSigned, 9007199254740991);
    assert.equal(got.bigUnsigned, 9007199254740991);
    assert.equal(got.id, 42);
  });

  await check('types.roundtrip: integer and enum map keys', async () => {
    const got = await api.typesRoundtrip(base);
    assert.deepEqual(Object.keys(got.byOffset).sort(), ['-3', '-9007199254740991', '1099511627776']);
    assert.equal(got.byOffset[-3], -1.5);
    assert.equal(got.byOffset[Number.MIN_SAFE_INTEGER], 0.25);
    assert.equal(got.byId[4294967295], 'max');
    assert.equal(got.byColor.dark_blue, 4294967295);
    assert.equal(got.byColor.red, 1);
  });

  await check('every Everything the server returns passes its check', async () => {
    for (const [, value] of roundtrips) {
      assert.equal(validate.checkEverything(expectedOf(value)), undefined);
    }
    assert.equal(validate.checkEverything({ ...expectedOf(base), omittedWhenNone: undefined }), 'omittedWhenNone: expected a string, found undefined');
    const { omittedWhenNone: _left, ...without } = expectedOf(base);
    assert.equal(validate.checkEverything(without), undefined, 'an optional key may be absent');
    assert.equal(validate.checkEverything({ ...without, unknownKey: 1 }), undefined, 'unknown keys are ignored');
  });

  await check('values that do not match: the check names the path', async () => {
    const good = expectedOf(base);
    const bad: [string, unknown, string][] = [
      ['wrong type', { ...good, text: 5 }, 'text: expected a string, found 5'],
      ['missing field', (({ flag: _f, ...rest }) => rest)(good), 'flag: missing'],
      ['null where not nullable', { ...good, nested: null }, 'nested: expected an object, found null'],
      ['unknown enum value', { ...good, color: 'purple' }, 'color: expected one of "red", "dark_blue", found "purple"'],
      ['unknown enum map key', { ...good, byColor: { purple: 1 } }, 'byColor.purple: expected one of "red", "dark_blue", found "purple"'],
      ['unknown internal tag', { ...good, shape: { kind: 'hexagon' } }, 'shape.kind: expected one of "circle", "rect", "empty", found "hexagon"'],
      ['unknown adjacent tag', { ...good, event: { type: 'moved', data: {} } }, 'event.type: expected one of "created", "deleted", "ping", found "moved"'],
      ['unknown external variant', { ...good, command: 'Pause' }, 'command: expected one of "Start", found "Pause"'],
      ['unknown external key', { ...good, command: { Pause: {} } }, 'command: expected one of the keys "Stop", "Rename", found "Pause"'],
      ['2^53 + 1 in a u64 field', JSON.parse(JSON.stringify(good).replace('"bigUnsigned":9007199254740991', '"bigUnsigned":9007199254740993')), 'bigUnsigned: expected an integer from 0 to 9007199254740991 (beyond Number.MAX_SAFE_INTEGER: JSON.parse rounded it), found 9007199254740992'],
      ['-1 in a u32 field', { ...good, withDefault: -1 }, 'withDefault: expected an integer from 0 to 4294967295, found -1'],
      ['1.5 in an integer field', { ...good, count: 1.5 }, 'count: expected an integer, found 1.5'],
      ['an i32 out of range', { ...good, count: 2147483648 }, 'count: expected an integer from -2147483648 to 2147483647, found 2147483648'],
      ['a byte over 255', { ...good, bytes: [0, 256] }, 'bytes[1]: expected an integer from 0 to 255, found 256'],
      ['a bad item deep down', { ...good, items: [good.items[0], { label: 7 }] }, 'items[1].label: expected a string, found 7'],
      ['a bad integer key', { ...good, byId: { x: 'x' } }, 'byId.x: expected an integer key, found "x"'],
      ['a negative key for u64 keys', { ...good, byId: { '-1': 'x' } }, 'byId["-1"]: expected an integer key from 0 to 18446744073709551615, found "-1"'],
      ['untagged fits no alternative', { ...good, scalar: true }, 'scalar: fits no alternative of Scalar (scalar: expected a number, found true; scalar: expected a string, found true; scalar: expected an array, found true)'],
      ['not a date-time', { ...good, when: 'yesterday' }, 'when: expected an RFC 3339 date-time string, found "yesterday"'],
      ['not a UUID', { ...good, uuid: 'x' }, 'uuid: expected a UUID string, found "x"'],
      ['an array for an object', [], 'expected an object, found an array'],
    ];
    for (const [name, value, expected] of bad) {
      assert.equal(validate.checkEverything(value), expected, name);
    }
  });

  await check('a result that does not match rejects with RPCResultError 30 naming the path', async () => {
    // Answers types.roundtrip with system.echo of a crafted value: a newer server's enum value.
    class Misrouted extends CentrifugoRPCClient {
      override call<T>(method: string, params?: unknown, opts?: CallOptions, check?: validate.Check): Promise<T> {
        const crafted = { ...expectedOf(base), color: 'purple' };
        return method === 'types.roundtrip' ? super.call<T>('system.echo', crafted, opts, check) : super.call<T>(method, params, opts, check);
      }
    }
    const misrouted = new Misrouted(url!, token!, { websocket: WebSocket });
    try {
      await misrouted.connect();
      const e = await rejects(
        new APIClient(misrouted).typesRoundtrip(base),
        {
          code: RESULT_CODE,
          message: 'the result of system.echo does not match the schema: color: expected one of "red", "dark_blue", found "purple"',
          temporary: false,
        },
        RPCResultError,
      );
      assert.equal(e.code, 30);
      assert.equal(e.name, 'RPCResultError');
    } finally {
      misrouted.disconnect();
    }
  });

  await check('an unknown method through call(): 404', async () => {
    await rejects(rpc.call('tasks.missing', {}), {
      code: ErrorCodes.METHOD_NOT_FOUND,
      temporary: false,
    });
  });

  await check('params that do not fit, through call(): 422 naming the field', async () => {
    const e = await rejects(rpc.call('tasks.get_stats', { user_id: 42 }), {
      code: ErrorCodes.INVALID_PARAMS,
      temporary: false,
    });
    assert.match(e.message, /user_id/);
  });

  await check('call() resolves with the raw result', async () => {
    assert.deepEqual(await rpc.call<TaskStatsResult>('tasks.get_stats', { user_id: '42' }), {
      total: 1,
      completed: 1,
    });
  });

  await check('the declared application error codes', async () => {
    assert.deepEqual(AppErrorCodes, {
      INVALID_TITLE: 1001,
      TASK_NOT_FOUND: 1004,
      NOT_YOUR_CHANNEL: 1403,
      DEMO_FAILURE: 1500,
      FLAKY_FAILURE: 1501,
      PUBLISHING_DISABLED: 1503,
    });
    const code: AppErrorCode = AppErrorCodes.TASK_NOT_FOUND;
    assert.equal(code, 1004);
  });

  await check('the built-in error codes', async () => {
    assert.deepEqual(ErrorCodes, {
      MALFORMED_JSON: 400,
      CHANNEL_NOT_ALLOWED: 403,
      METHOD_NOT_FOUND: 404,
      PAYLOAD_TOO_LARGE: 413,
      INVALID_PARAMS: 422,
      RATE_LIMITED: 429,
      INTERNAL: 500,
      OVERLOADED: 503,
      TIMED_OUT: 504,
    });
  });

  await check('getToken supplies the token', async () => {
    const other = new CentrifugoRPCClient(url!, '', {
      websocket: WebSocket,
      getToken: () => Promise.resolve(token!),
    });
    try {
      await other.connect();
      assert.equal((await new APIClient(other).systemWhoami()).user, '42');
    } finally {
      other.disconnect();
    }
  });

  await check('calls after disconnect() fail at once with an RPCError', async () => {
    rpc.disconnect();
    assert.equal(rpc.connected, false);
    const started = Date.now();
    let error: unknown;
    try {
      await api.systemWhoami({ timeout: 3000 });
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof RPCError, `got ${String(error)}`);
    assert.ok(!(error instanceof RPCTimeoutError), 'not a timeout');
    assert.equal(error.code, 3, 'centrifuge-js code clientDisconnected');
    assert.ok(Date.now() - started < 1000);
  });

  console.log(`\n${passed} passed, ${failed.length} failed`);
  if (failed.length > 0) {
    console.log(`FAILED: ${failed.join('; ')}`);
  }
  process.exit(failed.length === 0 ? 0 : 1);
}

/** Never called: `tsc` fails when a line marked `@ts-expect-error` compiles. */
export function typeChecks(api: APIClient): void {
  // @ts-expect-error the connect data needs the password
  void connectData({ user: 'x' });
  // @ts-expect-error the connect reply data is typed
  const via: number | undefined = api.connectReplyData()?.via;
  // @ts-expect-error user_id is required
  void api.tasksGetStats({});
  // @ts-expect-error user_id is a string
  void api.tasksGetStats({ user_id: 42 });
  // @ts-expect-error system.whoami takes no params
  void api.systemWhoami({ user_id: '42' });
  // @ts-expect-error the result is typed
  const n: Promise<number> = api.tasksGetStats({ user_id: '42' });
  // @ts-expect-error not a FailureKind
  void api.tasksFail({ kind: 'explode' });
  // @ts-expect-error not a Color
  const color: Color = 'green';
  // @ts-expect-error a circle has no width
  const shape: Shape = { kind: 'circle', w: 1 };
  // @ts-expect-error a rect needs both sides
  const rect: Shape = { kind: 'rect', w: 1 };
  // @ts-expect-error not a Command
  const command: Command = 'Pause';
  // @ts-expect-error Stop carries `force`
  const stop: Command = { Stop: {} };
  // @ts-expect-error created carries an Inner
  const event: Event = { type: 'created', data: { id: 1 } };
  // @ts-expect-error a Scalar is no boolean
  const scalar: Scalar = true;
  // @ts-expect-error a timeout is a number
  const opts: CallOptions = { timeout: '1s' };
  // @ts-expect-error a signal is an AbortSignal
  void api.systemWhoami({ signal: 'stop' });
  // @ts-expect-error an externally tagged value has exactly one variant's key
  const twoKeys: Command = { Stop: { force: true }, Rename: 'x' };
  // @ts-expect-error not even a unit variant's key beside another
  const withUnit: Command = { Rename: 'x', Start: null };
  // @ts-expect-error JSON has no undefined
  void api.systemEcho(undefined);
  // @ts-expect-error JSON has no bigint
  void api.systemEcho(1n);
  // @ts-expect-error not inside an object either
  void api.systemEcho({ a: undefined });
  // @ts-expect-error nor a bigint inside an array
  const extra: EverythingInput['extra'] = [1, 2n];
  // Narrowing on the tag.
  const s = { kind: 'rect', w: 1, h: 2 } as Shape;
  const width: number = s.kind === 'rect' ? s.w : s.kind === 'circle' ? s.radius : 0;
  const e = { type: 'deleted', data: { id: 1 } } as Event;
  const id: number = e.type === 'deleted' ? e.data.id : 0;
  void [n, color, shape, rect, command, stop, event, scalar, opts, width, id, twoKeys, withUnit, extra];
}

await main();
