// centrpc e2e driver for centrifuge-js (Node >= 20 with `ws`): reads a script (JSON) on stdin,
// prints a report. See ../DRIVER.md for the protocol; ../python/driver.py is the reference.

import { Centrifuge } from 'centrifuge';
import WebSocket from 'ws';

/** Publications received, per channel, with a way to wait for the n-th one. */
class Inbox {
  constructor() {
    this.items = new Map();
    this.waiters = new Set();
  }

  put(channel, data) {
    if (!this.items.has(channel)) this.items.set(channel, []);
    this.items.get(channel).push(data);
    for (const w of [...this.waiters]) w();
  }

  /** Resolves with the first `count` publications on `channel`, or null after `timeoutMs`. */
  wait(channel, count, timeoutMs) {
    return new Promise((resolve) => {
      let timer = null;
      const check = () => {
        const got = this.items.get(channel) || [];
        if (got.length < count) return false;
        this.waiters.delete(check);
        if (timer !== null) clearTimeout(timer);
        resolve(got.slice(0, count));
        return true;
      };
      if (check()) return;
      this.waiters.add(check);
      timer = setTimeout(() => {
        this.waiters.delete(check);
        resolve(null);
      }, timeoutMs);
    });
  }
}

/** `E` of DRIVER.md: the SDK's error object ({code, message, temporary?}) or code -1. */
function errorOf(e) {
  if (e !== null && typeof e === 'object' && typeof e.code === 'number' && typeof e.message === 'string') {
    return { code: e.code, message: e.message, temporary: !!e.temporary };
  }
  const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return { code: -1, message, temporary: false };
}

function error(e) {
  return { error: errorOf(e) };
}

function deepEqual(a, b) {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
}

/** The `ws` WebSocket, or a subclass sending `headers` with the upgrade request. */
function websocketFor(headers) {
  if (!headers || Object.keys(headers).length === 0) return WebSocket;
  return class HeaderWebSocket extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols, { headers });
    }
  };
}

function newClient(script) {
  const options = {
    websocket: websocketFor(script.headers),
    token: script.token || '',
    timeout: timeoutMs(script),
  };
  if (script.connect_data !== undefined && script.connect_data !== null) {
    options.data = script.connect_data;
  }
  return new Centrifuge(script.url, options);
}

function timeoutMs(script) {
  const t = script.timeout;
  return Math.round((t === undefined || t === null ? 5.0 : Number(t)) * 1000);
}

/** Resolves with `promise`'s value, or rejects with a timeout error after `ms`. */
function withTimeout(promise, ms) {
  let timer = null;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject({ code: -1, message: 'timeout' }), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

async function rpcMany(script, op) {
  const clients = [];
  for (let c = 0; c < op.clients; c++) clients.push(newClient(script));
  try {
    for (const c of clients) {
      c.connect();
      try {
        await c.ready(timeoutMs(script));
      } catch {
        // The calls below fail and report it.
      }
    }
    const one = async (ci, i) => {
      const sent = { client: ci, call: i };
      try {
        const reply = await clients[ci].rpc(op.method, sent);
        return [deepEqual(reply.data, sent), null];
      } catch (e) {
        return [false, errorOf(e)];
      }
    };
    const calls = [];
    for (let ci = 0; ci < clients.length; ci++) {
      for (let i = 0; i < op.calls; i++) calls.push(one(ci, i));
    }
    const outcomes = await Promise.all(calls);
    const errors = outcomes.filter(([, e]) => e !== null).map(([, e]) => e);
    const matched = outcomes.filter(([ok]) => ok).length;
    return { ok: { matched, mismatched: outcomes.length - matched - errors.length, errors: errors.slice(0, 5) } };
  } finally {
    for (const c of clients) c.disconnect();
  }
}

/**
 * What happened to the current subscription of each channel: its unsubscribed events (not the
 * ones of an `unsubscribe` op) and how many times it was subscribed, with a way to wait.
 */
class Lifecycle {
  constructor() {
    this.channels = new Map();
    this.waiters = new Set();
  }

  /** Forgets `channel`'s previous subscription: a new one starts. */
  reset(channel) {
    this.channels.set(channel, { unsubscribed: [], subscribed: 0, resubscribesSeen: 0 });
  }

  of(channel) {
    if (!this.channels.has(channel)) this.reset(channel);
    return this.channels.get(channel);
  }

  changed() {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves with `take(state)` once it is not undefined, or null after `timeoutMs`. */
  wait(channel, take, timeoutMs) {
    return new Promise((resolve) => {
      let timer = null;
      const check = () => {
        const got = take(this.of(channel));
        if (got === undefined) return false;
        this.waiters.delete(check);
        if (timer !== null) clearTimeout(timer);
        resolve(got);
        return true;
      };
      if (check()) return;
      this.waiters.add(check);
      timer = setTimeout(() => {
        this.waiters.delete(check);
        resolve(null);
      }, timeoutMs);
    });
  }
}

/**
 * Subscribes to `channel` (with `data` as the subscribe data, when given); resolves with the
 * first of subscribed / error / unsubscribed.
 */
function subscribe(client, inbox, lifecycle, channel, data, ms) {
  const sub = client.newSubscription(channel, data === undefined || data === null ? {} : { data });
  lifecycle.reset(channel);
  const state = lifecycle.of(channel);
  const outcome = new Promise((resolve) => {
    sub.on('subscribed', () => resolve({ ok: true }));
    sub.on('error', (ctx) => resolve(error(ctx.error)));
    sub.on('unsubscribed', (ctx) => resolve({ error: { code: ctx.code, message: ctx.reason, temporary: false } }));
  });
  sub.on('subscribed', () => {
    state.subscribed += 1;
    lifecycle.changed();
  });
  sub.on('unsubscribed', (ctx) => {
    state.unsubscribed.push({ code: ctx.code, reason: ctx.reason });
    lifecycle.changed();
  });
  sub.on('publication', (ctx) => inbox.put(channel, ctx.data));
  sub.subscribe();
  return withTimeout(outcome, ms);
}

/** Unsubscribes from `channel` and removes the subscription from the client. */
function unsubscribe(client, channel) {
  const sub = client.getSubscription(channel);
  if (sub === null) {
    return { error: { code: -1, message: `no subscription to ${channel}`, temporary: false } };
  }
  // Its own unsubscribed event is not one wait_unsubscribed reports.
  sub.removeAllListeners('unsubscribed');
  sub.removeAllListeners('subscribed');
  client.removeSubscription(sub);
  return { ok: true };
}

const TIMEOUT = { error: { code: -1, message: 'timeout', temporary: false } };

async function run(script) {
  const ms = timeoutMs(script);
  const inbox = new Inbox();
  const lifecycle = new Lifecycle();
  const disconnects = [];
  const client = newClient(script);
  client.on('disconnected', (ctx) => {
    if (ctx.code >= 3000) disconnects.push({ code: ctx.code, reason: ctx.reason });
  });
  // Publications on server-side subscriptions (channels the client did not subscribe itself).
  client.on('publication', (ctx) => inbox.put(ctx.channel, ctx.data));
  // Errors are reported through the ops; keep the emitter from treating them as unhandled.
  client.on('error', () => {});
  client.connect();
  let connected;
  try {
    await client.ready(ms);
    connected = true;
  } catch {
    connected = false;
  }
  const results = [];
  for (const op of script.ops || []) {
    if (!connected) {
      results.push({ error: { code: -2, message: 'not connected', temporary: false } });
      continue;
    }
    const kind = op.op;
    try {
      if (kind === 'rpc') {
        const reply = await client.rpc(op.method, op.data === undefined ? null : op.data);
        results.push({ ok: reply.data === undefined ? null : reply.data });
      } else if (kind === 'subscribe') {
        results.push(await subscribe(client, inbox, lifecycle, op.channel, op.data, ms));
      } else if (kind === 'unsubscribe') {
        results.push(unsubscribe(client, op.channel));
      } else if (kind === 'wait_unsubscribed') {
        // The next unsubscribed event of the channel's subscription not reported yet.
        const got = await lifecycle.wait(op.channel, (s) => s.unsubscribed.shift(), ms);
        results.push(got === null ? TIMEOUT : { ok: got });
      } else if (kind === 'wait_resubscribed') {
        // Subscribed once more than at the last resubscribe reported (the first is the subscribe op's).
        const got = await lifecycle.wait(
          op.channel,
          (s) => {
            if (s.subscribed < s.resubscribesSeen + 2) return undefined;
            s.resubscribesSeen += 1;
            return true;
          },
          ms,
        );
        results.push(got === null ? TIMEOUT : { ok: true });
      } else if (kind === 'publish') {
        await client.publish(op.channel, op.data === undefined ? null : op.data);
        results.push({ ok: true });
      } else if (kind === 'wait_publications') {
        const got = await inbox.wait(op.channel, op.count, ms);
        results.push(got === null ? { error: { code: -1, message: 'timeout', temporary: false } } : { ok: got });
      } else if (kind === 'rpc_many') {
        results.push(await rpcMany(script, op));
      } else if (kind === 'sleep') {
        await new Promise((resolve) => setTimeout(resolve, op.ms));
        results.push({ ok: true });
      } else {
        results.push({ error: { code: -3, message: `unknown op ${kind}`, temporary: false } });
      }
    } catch (e) {
      results.push(error(e));
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 50)); // let a pending disconnect event land
  client.disconnect();
  return { connected, results, disconnects };
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function main() {
  let script;
  try {
    script = JSON.parse(await readStdin());
  } catch (e) {
    process.stderr.write(`unreadable script: ${e}\n`);
    process.exit(1);
  }
  const report = await run(script);
  // Exit as soon as the report is out, whatever closing handshakes are still pending.
  process.stdout.write(JSON.stringify(report) + '\n', () => process.exit(0));
}

main();
