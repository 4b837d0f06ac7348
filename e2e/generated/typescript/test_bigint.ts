// End-to-end test of the TypeScript client generated with `--ts-int64 bigint`
// (tests/codegen_typescript.rs runs it): 64-bit integers round-trip exactly as bigints over the
// whole range through the example app behind Centrifugo, in results, stream params and items,
// bidi publications and the connect reply data; and, with the default package (`number`), a
// value beyond 2^53 − 1 is still the visible RPCResultError.
//
//   node out/test_bigint.js <ws-url> <token for user 42> <samples.json>
//
// samples.json holds types.roundtrip's zero, minimal and maximal samples over the full ranges
// (i64::MIN, u64::MAX, …), read here with the package's lossless parseJson.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import WebSocket from 'ws';

import {
  APIClient,
  CentrifugoRPCClient,
  connectData,
  parseJson,
  RESULT_CODE,
  RPCResultError,
  stringifyJson,
  validate,
} from 'tasks-client-bigint';
import type { Everything, EverythingInput, JsonValue } from 'tasks-client-bigint';
import * as numbers from 'tasks-client';

const [url, token, samplesPath] = process.argv.slice(2);
if (url === undefined || token === undefined || samplesPath === undefined) {
  console.error('usage: node test_bigint.js <ws-url> <token> <samples.json>');
  process.exit(2);
}

const watchdog = setTimeout(() => {
  console.log('FAIL the test program did not finish within 60 s');
  process.exit(3);
}, 60_000);
watchdog.unref();

interface SampleCase {
  name: string;
  sample: EverythingInput;
  expected: unknown;
}

const samples = parseJson(readFileSync(samplesPath, 'utf8')) as SampleCase[];

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const U64_MAX = 2n ** 64n - 1n;
const SAFE_PLUS_2 = 2n ** 53n + 1n;

let passed = 0;
const failed: string[] = [];

async function check(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
    passed += 1;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed.push(name);
    console.log(`FAIL ${name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
}

/** Awaits `p`, which must reject with an RPCResultError (code 30) whose message has `text`. */
async function resultError(p: Promise<unknown>, text: string, cls: new (...args: never[]) => Error): Promise<void> {
  let outcome: unknown;
  try {
    outcome = await p;
  } catch (e) {
    assert.ok(e instanceof cls, `expected a ${cls.name}, got ${String(e)}`);
    assert.equal((e as unknown as { code: number }).code, RESULT_CODE);
    assert.ok(e.message.includes(text), `${e.message} lacks ${text}`);
    return;
  }
  throw new Error(`expected a rejection, got ${stringifyJson(outcome)}`);
}

const zero = samples.find((c) => c.name === 'zero')?.sample;
assert.ok(zero !== undefined, 'the zero sample');

async function main(): Promise<void> {
  const rpc = new CentrifugoRPCClient(url!, token!, { websocket: WebSocket, timeout: 5000 });
  await rpc.connect();
  const api = new APIClient(rpc);

  await check('the samples reach the ends of the 64-bit ranges', async () => {
    const max = samples.find((c) => c.name === 'max')?.sample;
    const min = samples.find((c) => c.name === 'min')?.sample;
    assert.equal(max?.bigUnsigned, U64_MAX);
    assert.equal(max?.bigSigned, I64_MAX);
    assert.equal(min?.bigSigned, I64_MIN);
  });
  for (const { name, sample, expected } of samples) {
    await check(`types.roundtrip sample ${name}: comes back exactly as the server wrote it`, async () => {
      const got: Everything = await api.typesRoundtrip(sample);
      // What the server wrote, its 64-bit integers made bigints by the same check.
      assert.deepEqual(got, validate.expectValid<Everything>(expected, validate.checkEverything, 'expected'));
      assert.equal(typeof got.bigSigned, 'bigint');
      assert.equal(typeof got.count, 'number', 'a 32-bit integer stays a number');
    });
  }

  const cases: [string, bigint, bigint][] = [
    ['i64::MIN and 0', I64_MIN, 0n],
    ['i64::MAX and u64::MAX', I64_MAX, U64_MAX],
    ['2^53 + 1 and 2^53 + 1', SAFE_PLUS_2, SAFE_PLUS_2],
    ['-(2^53 + 1) and 2^63', -SAFE_PLUS_2, 2n ** 63n],
  ];
  for (const [name, signed, unsigned] of cases) {
    await check(`types.roundtrip: ${name} stay exact`, async () => {
      const got = await api.typesRoundtrip({
        ...zero!,
        bigSigned: signed,
        bigUnsigned: unsigned,
        id: unsigned,
        event: { type: 'deleted', data: { id: unsigned } },
        byOffset: { [signed.toString()]: 0.5 },
      });
      assert.equal(got.bigSigned, signed);
      assert.equal(got.bigUnsigned, unsigned);
      assert.equal(got.id, unsigned);
      assert.deepEqual(got.event, { type: 'deleted', data: { id: unsigned } });
      assert.deepEqual(Object.keys(got.byOffset), [signed.toString()]);
    });
  }

  await check('strings of digits are never touched; untyped JSON keeps big integers as bigints', async () => {
    const extra: JsonValue = { s: '18446744073709551615', n: 12345678901234567890n, min: I64_MIN, f: 1.5, small: 7 };
    const got = await api.typesRoundtrip({ ...zero!, text: '9007199254740993', tags: ['-9223372036854775809', '1e400'], extra });
    assert.equal(got.text, '9007199254740993');
    assert.deepEqual(got.tags, ['-9223372036854775809', '1e400']);
    assert.deepEqual(got.extra, extra);
  });

  await check('a received value beyond the u64 range is RPCResultError 30 naming the field', async () => {
    const good = await api.typesRoundtrip(zero!);
    await resultError(
      rpc.call('system.echo', { ...good, bigUnsigned: U64_MAX + 1n }, {}, validate.checkEverything),
      'the result of system.echo does not match the schema: bigUnsigned: expected an integer',
      RPCResultError,
    );
    await resultError(
      rpc.call('system.echo', { ...good, bigSigned: I64_MIN - 1n }, {}, validate.checkEverything),
      'bigSigned: expected an integer',
      RPCResultError,
    );
  });

  await check('stream params and items: watch:count from u64::MAX − 2', async () => {
    const items: bigint[] = [];
    for await (const c of api.watchCount({ from: U64_MAX - 2n, count: 2n })) {
      items.push(c.n);
    }
    assert.deepEqual(items, [U64_MAX - 2n, U64_MAX - 1n]);
  });

  await check('bidi publications: tally:big from 2^53 − 1, +2', async () => {
    const tally = api.tally('big', { start: 2n ** 53n - 1n });
    const it = tally[Symbol.asyncIterator]();
    const first = it.next();
    await tally.ready();
    await tally.publish({ add: 2n });
    const { value } = await first;
    assert.equal(value?.total, SAFE_PLUS_2);
    assert.equal(value?.adds, 1n);
    await it.return?.();
  });

  await check('typed connect data and the connect reply data (i64 expires_at as a bigint)', async () => {
    const carol = new CentrifugoRPCClient(url!, '', {
      websocket: WebSocket,
      timeout: 3000,
      data: connectData({ user: 'carol', password: 'centrpc' }),
    });
    await carol.connect();
    try {
      const welcome = new APIClient(carol).connectReplyData();
      assert.equal(welcome?.user, 'carol');
      assert.equal(typeof welcome?.expires_at, 'bigint');
      assert.ok((welcome?.expires_at ?? 0n) > BigInt(Math.floor(Date.now() / 1000)));
    } finally {
      carol.disconnect();
    }
  });

  rpc.disconnect();

  await check('the default package (number): 2^53 + 1 is the visible RPCResultError 30', async () => {
    const plain = new numbers.CentrifugoRPCClient(url!, token!, { websocket: WebSocket, timeout: 5000 });
    await plain.connect();
    try {
      const input = JSON.parse(stringifyJson(zero)) as numbers.EverythingInput;
      await resultError(
        new numbers.APIClient(plain).typesRoundtrip({ ...input, bigUnsigned: 2 ** 53 + 1 }),
        'bigUnsigned: expected an integer from 0 to 9007199254740991 (beyond Number.MAX_SAFE_INTEGER: JSON.parse rounded it), found 9007199254740992',
        numbers.RPCResultError,
      );
    } finally {
      plain.disconnect();
    }
  });

  console.log(`\n${passed} passed, ${failed.length} failed`);
  if (failed.length > 0) {
    process.exitCode = 1;
  }
}

/** Never run: `tsc` fails when the bigint package's types are too loose. */
export function typeChecks(e: Everything): void {
  const exact: bigint = e.bigUnsigned;
  void exact;
  // @ts-expect-error a 64-bit integer is a bigint, not a number
  const rounded: number = e.bigSigned;
  void rounded;
  const small: number = e.count;
  void small;
}

await main();
