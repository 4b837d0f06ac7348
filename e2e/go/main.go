// Command driver is the centrpc e2e driver for centrifuge-go: it reads a script
// (JSON) on stdin and prints a report (one JSON line) on stdout.
//
// See ../DRIVER.md for the protocol; ../python/driver.py is the reference
// implementation and this program mirrors it.
//
// SDK event handlers run on the client's callback queue, which the read loop
// waits on: handlers here only record and signal, they never call blocking
// SDK methods.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"sync"
	"time"

	"github.com/centrifugal/centrifuge-go"
)

// Script is the driver's input.
type Script struct {
	URL         string            `json:"url"`
	Token       string            `json:"token"`
	ConnectData json.RawMessage   `json:"connect_data"`
	Headers     map[string]string `json:"headers"`
	Timeout     *float64          `json:"timeout"`
	Ops         []Op              `json:"ops"`
}

// Op is one operation of the script; which fields matter depends on Op.
type Op struct {
	Op      string          `json:"op"`
	Method  string          `json:"method"`
	Data    json.RawMessage `json:"data"`
	Channel string          `json:"channel"`
	Count   int             `json:"count"`
	Clients int             `json:"clients"`
	Calls   int             `json:"calls"`
	Ms      float64         `json:"ms"`
}

// E is an error as reported: the SDK's server error, or a client-side failure.
type E struct {
	Code      int64  `json:"code"`
	Message   string `json:"message"`
	Temporary bool   `json:"temporary"`
}

// Result is one op's outcome: exactly one of ok / error.
type Result map[string]any

// Disconnect is a server-initiated disconnect seen on the main connection.
type Disconnect struct {
	Code   uint32 `json:"code"`
	Reason string `json:"reason"`
}

// Report is the driver's output.
type Report struct {
	Connected   bool         `json:"connected"`
	Results     []Result     `json:"results"`
	Disconnects []Disconnect `json:"disconnects"`
}

// ManyOutcome is the ok value of rpc_many.
type ManyOutcome struct {
	Matched    int `json:"matched"`
	Mismatched int `json:"mismatched"`
	Errors     []E `json:"errors"`
}

func ok(v any) Result { return Result{"ok": v} }

func fail(e E) Result { return Result{"error": e} }

// toE maps an SDK error: the server's error as it reached the application, else
// code -1 with the error's text.
func toE(err error) E {
	var se *centrifuge.Error
	if errors.As(err, &se) {
		return E{Code: int64(se.Code), Message: se.Message, Temporary: se.Temporary}
	}
	var sv centrifuge.Error
	if errors.As(err, &sv) {
		return E{Code: int64(sv.Code), Message: sv.Message, Temporary: sv.Temporary}
	}
	return E{Code: -1, Message: err.Error()}
}

// payload is the JSON to send for a script value: null when absent.
func payload(raw json.RawMessage) []byte {
	if len(bytes.TrimSpace(raw)) == 0 {
		return []byte("null")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return raw
	}
	return buf.Bytes()
}

// decoded is received data (JSON bytes) as a report value.
func decoded(data []byte) any {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if json.Valid(data) {
		return json.RawMessage(append([]byte(nil), data...))
	}
	return string(data)
}

// Inbox holds the publications received, per channel.
type Inbox struct {
	mu      sync.Mutex
	items   map[string][]any
	changed chan struct{}
}

func newInbox() *Inbox {
	return &Inbox{items: map[string][]any{}, changed: make(chan struct{})}
}

func (in *Inbox) put(channel string, data []byte) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.items[channel] = append(in.items[channel], decoded(data))
	close(in.changed)
	in.changed = make(chan struct{})
}

// wait returns the first count publications on channel, or false on timeout.
func (in *Inbox) wait(channel string, count int, timeout time.Duration) ([]any, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		in.mu.Lock()
		got := in.items[channel]
		if len(got) >= count {
			out := append([]any{}, got[:max(count, 0)]...)
			in.mu.Unlock()
			return out, true
		}
		changed := in.changed
		in.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			return nil, false
		}
	}
}

// SubEvents records the life of one client-side subscription: its unsubscribed events and how
// often it was subscribed, and how much of each the wait ops have reported.
type SubEvents struct {
	sub          *centrifuge.Subscription
	unsubscribed []Disconnect
	subscribed   int
	// reported unsubscribed events, and reported resubscriptions
	seenUnsub, seenResub int
}

// Subs holds the subscriptions the script made, by channel (the latest one per channel).
type Subs struct {
	mu      sync.Mutex
	byName  map[string]*SubEvents
	changed chan struct{}
}

func newSubs() *Subs {
	return &Subs{byName: map[string]*SubEvents{}, changed: make(chan struct{})}
}

// update changes a subscription's record under the lock and wakes the waits.
func (s *Subs) update(ev *SubEvents, change func(*SubEvents)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	change(ev)
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Subs) get(channel string) *SubEvents {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byName[channel]
}

// wait waits until ready (called under the lock) is true for the channel's subscription, or the
// timeout; the result is ready's value, or the error result.
func (s *Subs) wait(channel string, timeout time.Duration, ready func(*SubEvents) (any, bool)) Result {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ev := s.byName[channel]
		if ev == nil {
			s.mu.Unlock()
			return fail(E{Code: -1, Message: "not subscribed: " + channel})
		}
		if v, done := ready(ev); done {
			s.mu.Unlock()
			return ok(v)
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			return fail(E{Code: -1, Message: "timeout"})
		}
	}
}

func newClient(script *Script, timeout time.Duration) *centrifuge.Client {
	cfg := centrifuge.Config{
		Token:       script.Token,
		ReadTimeout: timeout,
	}
	if raw := bytes.TrimSpace(script.ConnectData); len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		cfg.Data = payload(raw)
	}
	if len(script.Headers) > 0 {
		cfg.Header = http.Header{}
		for k, v := range script.Headers {
			cfg.Header.Set(k, v)
		}
	}
	return centrifuge.NewJsonClient(script.URL, cfg)
}

func rpcMany(script *Script, op *Op, timeout time.Duration) Result {
	clients := make([]*centrifuge.Client, max(op.Clients, 0))
	for i := range clients {
		clients[i] = newClient(script, timeout)
		_ = clients[i].Connect() // a failed first dial is retried; the RPCs wait (bounded)
	}
	calls := max(op.Calls, 0)
	type outcome struct {
		matched bool
		err     *E
	}
	outcomes := make([]outcome, len(clients)*calls)
	var wg sync.WaitGroup
	for ci, c := range clients {
		for i := 0; i < calls; i++ {
			wg.Add(1)
			go func(ci, i int, c *centrifuge.Client) {
				defer wg.Done()
				sent, _ := json.Marshal(map[string]int{"client": ci, "call": i})
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				defer cancel()
				reply, err := c.RPC(ctx, op.Method, sent)
				if err != nil {
					e := toE(err)
					outcomes[ci*calls+i] = outcome{err: &e}
					return
				}
				outcomes[ci*calls+i] = outcome{matched: jsonEqual(sent, reply.Data)}
			}(ci, i, c)
		}
	}
	wg.Wait()
	for _, c := range clients {
		c.Close()
	}
	res := ManyOutcome{Errors: []E{}}
	nerr := 0
	for _, o := range outcomes {
		switch {
		case o.err != nil:
			nerr++
			if len(res.Errors) < 5 {
				res.Errors = append(res.Errors, *o.err)
			}
		case o.matched:
			res.Matched++
		}
	}
	res.Mismatched = len(outcomes) - res.Matched - nerr
	return ok(res)
}

func jsonEqual(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

func subscribe(client *centrifuge.Client, inbox *Inbox, subs *Subs, channel string, data json.RawMessage, timeout time.Duration) Result {
	var config centrifuge.SubscriptionConfig
	if len(bytes.TrimSpace(data)) > 0 {
		config.Data = payload(data)
	}
	sub, err := client.NewSubscription(channel, config)
	if err != nil {
		return fail(toE(err))
	}
	events := &SubEvents{sub: sub}
	subs.mu.Lock()
	subs.byName[channel] = events
	subs.mu.Unlock()
	outcome := make(chan Result, 1)
	resolve := func(r Result) {
		select {
		case outcome <- r:
		default: // the first outcome wins
		}
	}
	sub.OnSubscribed(func(centrifuge.SubscribedEvent) {
		subs.update(events, func(ev *SubEvents) { ev.subscribed++ })
		resolve(ok(true))
	})
	sub.OnError(func(e centrifuge.SubscriptionErrorEvent) { resolve(fail(toE(e.Error))) })
	sub.OnUnsubscribed(func(e centrifuge.UnsubscribedEvent) {
		subs.update(events, func(ev *SubEvents) {
			ev.unsubscribed = append(ev.unsubscribed, Disconnect{Code: e.Code, Reason: e.Reason})
		})
		resolve(fail(E{Code: int64(e.Code), Message: e.Reason}))
	})
	sub.OnPublication(func(e centrifuge.PublicationEvent) { inbox.put(channel, e.Data) })
	if err := sub.Subscribe(); err != nil {
		return fail(toE(err))
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	select {
	case r := <-outcome:
		return r
	case <-deadline.C:
		return fail(E{Code: -1, Message: "timeout"})
	}
}

// unsubscribe unsubscribes from channel (unless the subscription is unsubscribed already) and
// removes the subscription from the client, so the channel can be subscribed again.
func unsubscribe(client *centrifuge.Client, subs *Subs, channel string) Result {
	ev := subs.get(channel)
	if ev == nil {
		return fail(E{Code: -1, Message: "not subscribed: " + channel})
	}
	if ev.sub.State() != centrifuge.SubStateUnsubscribed {
		if err := ev.sub.Unsubscribe(); err != nil {
			return fail(toE(err))
		}
	}
	if err := client.RemoveSubscription(ev.sub); err != nil {
		return fail(toE(err))
	}
	return ok(true)
}

func run(script *Script) Report {
	secs := 5.0
	if script.Timeout != nil {
		secs = *script.Timeout
	}
	timeout := time.Duration(secs * float64(time.Second))
	inbox := newInbox()
	subs := newSubs()
	var mu sync.Mutex
	disconnects := []Disconnect{}

	client := newClient(script, timeout)
	ready := make(chan bool, 1)
	signal := func(v bool) {
		select {
		case ready <- v:
		default: // only the first state change decides
		}
	}
	client.OnConnected(func(centrifuge.ConnectedEvent) { signal(true) })
	client.OnDisconnected(func(e centrifuge.DisconnectedEvent) {
		if e.Code >= 3000 {
			mu.Lock()
			disconnects = append(disconnects, Disconnect{Code: e.Code, Reason: e.Reason})
			mu.Unlock()
		}
		signal(false) // terminal: the SDK does not reconnect from here
	})
	client.OnError(func(centrifuge.ErrorEvent) {
		// Connect/transport errors the SDK retries on its own (the wait stays
		// bounded by the timeout); terminal ones end in OnDisconnected.
	})
	client.OnPublication(func(e centrifuge.ServerPublicationEvent) { inbox.put(e.Channel, e.Data) })

	connected := false
	if err := client.Connect(); !errors.Is(err, centrifuge.ErrClientClosed) {
		deadline := time.NewTimer(timeout)
		select {
		case connected = <-ready:
		case <-deadline.C:
		}
		deadline.Stop()
	}

	results := make([]Result, 0, len(script.Ops))
	for i := range script.Ops {
		op := &script.Ops[i]
		if !connected {
			results = append(results, fail(E{Code: -2, Message: "not connected"}))
			continue
		}
		switch op.Op {
		case "rpc":
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			reply, err := client.RPC(ctx, op.Method, payload(op.Data))
			cancel()
			if err != nil {
				results = append(results, fail(toE(err)))
			} else {
				results = append(results, ok(decoded(reply.Data)))
			}
		case "subscribe":
			results = append(results, subscribe(client, inbox, subs, op.Channel, op.Data, timeout))
		case "unsubscribe":
			results = append(results, unsubscribe(client, subs, op.Channel))
		case "wait_unsubscribed":
			results = append(results, subs.wait(op.Channel, timeout, func(ev *SubEvents) (any, bool) {
				if ev.seenUnsub < len(ev.unsubscribed) {
					ev.seenUnsub++
					return ev.unsubscribed[ev.seenUnsub-1], true
				}
				return nil, false
			}))
		case "wait_resubscribed":
			results = append(results, subs.wait(op.Channel, timeout, func(ev *SubEvents) (any, bool) {
				if ev.seenResub < ev.subscribed-1 {
					ev.seenResub++
					return true, true
				}
				return nil, false
			}))
		case "publish":
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			_, err := client.Publish(ctx, op.Channel, payload(op.Data))
			cancel()
			if err != nil {
				results = append(results, fail(toE(err)))
			} else {
				results = append(results, ok(true))
			}
		case "wait_publications":
			if got, done := inbox.wait(op.Channel, op.Count, timeout); done {
				results = append(results, ok(got))
			} else {
				results = append(results, fail(E{Code: -1, Message: "timeout"}))
			}
		case "rpc_many":
			results = append(results, rpcMany(script, op, timeout))
		case "sleep":
			time.Sleep(time.Duration(op.Ms * float64(time.Millisecond)))
			results = append(results, ok(true))
		default:
			results = append(results, fail(E{Code: -3, Message: "unknown op " + op.Op}))
		}
	}
	time.Sleep(50 * time.Millisecond) // let a pending disconnect event land
	client.Close()                    // runs the queued events before returning

	mu.Lock()
	defer mu.Unlock()
	return Report{Connected: connected, Results: results, Disconnects: append([]Disconnect{}, disconnects...)}
}

func main() {
	var script Script
	if err := json.NewDecoder(os.Stdin).Decode(&script); err != nil {
		fmt.Fprintf(os.Stderr, "driver: unreadable script: %v\n", err)
		os.Exit(1)
	}
	report := run(&script)
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(report); err != nil {
		fmt.Fprintf(os.Stderr, "driver: %v\n", err)
		os.Exit(1)
	}
}
