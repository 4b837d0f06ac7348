// Command loadgen drives RPC load through Centrifugo with the official Go SDK
// (centrifuge-go): -clients WebSocket connections (JSON protocol), each
// keeping -concurrency calls in flight, for -duration or -calls calls,
// optionally paced to -rate calls/s in total. It prints one JSON report on
// stdout.
//
// Counting: a call is counted when it is issued after the warmup. Every
// counted call ends as exactly one of ok, a server error (by code), a client
// error (timeout / disconnected / other) or, with -verify, a mismatch, so
//
//	calls = ok + sum(errors) + sum(client_errors) + mismatched.
//
// Times in the report (timeline, first/last failure) are completion times
// relative to the end of the warmup (origin_unix_ms, wall clock), so a caller
// can place its own events on the same axis. errors_temporary counts the server
// errors (by code) that carried the temporary flag. latency_ms covers every counted call,
// latency_ok_ms the ok ones only.
//
// With -subscribe it measures subscriptions instead (items delivered to
// subscribers, in order, and their latency): see subscribe.go.
//
// SDK event handlers here only update counters and signal without blocking:
// they run on the client's callback queue, which the read loop waits on.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/centrifugal/centrifuge-go"
)

type options struct {
	url            string
	token          string
	clients        int
	concurrency    int
	duration       time.Duration
	calls          int64
	rate           float64
	method         string
	params         string
	payloadBytes   int
	verify         bool
	timeout        time.Duration
	warmup         time.Duration
	stopFile       string
	bucket         time.Duration
	connectTimeout time.Duration
	subscribe      string
	subs           int
	subData        string
	items          int64
	subConcurrency int
}

func usageError(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "loadgen: "+format+"\n", args...)
	os.Exit(2)
}

func parseFlags() (options, *template) {
	var o options
	flag.StringVar(&o.url, "url", "", "Centrifugo WebSocket endpoint, ws://host:port/connection/websocket")
	flag.StringVar(&o.token, "token", "", "connection JWT")
	flag.IntVar(&o.clients, "clients", 1, "number of WebSocket connections")
	flag.IntVar(&o.concurrency, "concurrency", 1, "calls kept in flight per connection")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured run time after warmup (0 = until -calls or -stop-file)")
	flag.Int64Var(&o.calls, "calls", 0, "stop after this many counted calls were issued (0 = unlimited)")
	flag.Float64Var(&o.rate, "rate", 0, "total calls/s over all connections (0 = as fast as possible)")
	flag.StringVar(&o.method, "method", "system.echo", "RPC method")
	flag.StringVar(&o.params, "params", "", "JSON params template; {{client}}, {{seq}} (numbers) and {{pad}} (inside a string) are filled in per call.\n"+
		"Default for system.echo: "+defaultEchoTemplate+"; otherwise {}")
	flag.IntVar(&o.payloadBytes, "payload-bytes", 0, "size the {{pad}} so the payload is about this many bytes")
	flag.BoolVar(&o.verify, "verify", false, "the reply must equal the request (default true for system.echo)")
	flag.DurationVar(&o.timeout, "timeout", 5*time.Second, "per-call timeout")
	flag.DurationVar(&o.warmup, "warmup", 0, "calls during this initial period are not counted")
	flag.StringVar(&o.stopFile, "stop-file", "", "when this file exists, stop issuing calls, let in-flight ones finish and report")
	flag.DurationVar(&o.bucket, "bucket", 100*time.Millisecond, "timeline bucket width")
	flag.DurationVar(&o.connectTimeout, "connect-timeout", 10*time.Second, "all clients must connect within this time, else exit 2")
	flag.StringVar(&o.subscribe, "subscribe", "", "subscribe mode: channel prefix, e.g. bench: (channels <prefix><conn>-<sub>); see subscribe.go")
	flag.IntVar(&o.subs, "subs", 1, "subscribe mode: subscriptions per connection")
	flag.StringVar(&o.subData, "sub-data", "", "subscribe mode: subscribe data (JSON), e.g. a stream's params")
	flag.Int64Var(&o.items, "items", 0, "subscribe mode: items each subscription must receive (n = 0..items-1)")
	flag.IntVar(&o.subConcurrency, "subscribe-concurrency", 256, "subscribe mode: subscribe requests pending at most")
	flag.Parse()
	if flag.NArg() > 0 {
		usageError("unexpected arguments: %v", flag.Args())
	}
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["verify"] {
		o.verify = o.method == "system.echo"
	}
	switch {
	case o.url == "":
		usageError("-url is required")
	case o.clients < 1:
		usageError("-clients must be >= 1")
	case o.concurrency < 1:
		usageError("-concurrency must be >= 1")
	case o.duration < 0:
		usageError("-duration must be >= 0")
	case o.calls < 0:
		usageError("-calls must be >= 0")
	case o.rate < 0:
		usageError("-rate must be >= 0")
	case o.payloadBytes < 0:
		usageError("-payload-bytes must be >= 0")
	case o.timeout <= 0:
		usageError("-timeout must be > 0")
	case o.warmup < 0:
		usageError("-warmup must be >= 0")
	case o.bucket <= 0:
		usageError("-bucket must be > 0")
	case o.connectTimeout <= 0:
		usageError("-connect-timeout must be > 0")
	case o.subs < 1:
		usageError("-subs must be >= 1")
	case o.subConcurrency < 1:
		usageError("-subscribe-concurrency must be >= 1")
	case o.items < 0:
		usageError("-items must be >= 0")
	case o.subscribe != "" && o.duration == 0 && o.items == 0 && o.stopFile == "":
		usageError("nothing would end the run: set -duration, -items or -stop-file")
	case o.subscribe != "":
		// Subscribe mode: the call flags do not apply.
	case o.duration == 0 && o.calls == 0 && o.stopFile == "":
		usageError("nothing would end the run: set -duration, -calls or -stop-file")
	case o.method == "":
		usageError("-method must not be empty")
	}
	src := o.params
	if !set["params"] {
		src = "{}"
		if o.method == "system.echo" {
			src = defaultEchoTemplate
		}
	}
	tmpl, err := parseTemplate(src)
	if err != nil {
		usageError("%v", err)
	}
	if o.payloadBytes > 0 && !tmpl.has(phPad) {
		usageError("-payload-bytes needs a {{pad}} placeholder in -params")
	}
	tmpl.setPayloadBytes(o.payloadBytes)
	return o, tmpl
}

// stopper ends the issuing of calls once, remembering why.
type stopper struct {
	once   sync.Once
	ch     chan struct{}
	reason atomic.Value
}

func (s *stopper) stop(reason string) {
	s.once.Do(func() {
		s.reason.Store(reason)
		close(s.ch)
	})
}

func (s *stopper) stopped() bool {
	select {
	case <-s.ch:
		return true
	default:
		return false
	}
}

// pacer hands out call slots spaced 1/rate apart over all workers. A stalled
// run does not build up credit (no catch-up burst afterwards).
type pacer struct {
	mu       sync.Mutex
	next     time.Time
	interval time.Duration
}

// wait blocks until the caller's slot; false if the run stopped meanwhile.
func (p *pacer) wait(stop <-chan struct{}) bool {
	if p == nil {
		return true
	}
	p.mu.Lock()
	now := time.Now()
	slot := p.next
	if slot.Before(now) {
		slot = now
	}
	p.next = slot.Add(p.interval)
	p.mu.Unlock()
	d := time.Until(slot)
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	}
}

// conn is one client connection and its connection-level counters.
type conn struct {
	c         *centrifuge.Client
	ready     chan error // first connect outcome
	connects  atomic.Int64
	lastError atomic.Value // string
	seq       atomic.Uint64
}

func newConn(o *options, idx int) *conn {
	cn := &conn{ready: make(chan error, 1)}
	cn.c = centrifuge.NewJsonClient(o.url, centrifuge.Config{
		Token: o.token,
		// Calls are bounded by their own context; keep the SDK's own
		// deadline (also used for connecting) no shorter than 5s.
		ReadTimeout: max(o.timeout, 5*time.Second),
		Name:        "centrpc-loadgen",
	})
	resolve := func(err error) {
		select {
		case cn.ready <- err:
		default: // only the first outcome matters
		}
	}
	cn.c.OnConnected(func(centrifuge.ConnectedEvent) {
		cn.connects.Add(1)
		resolve(nil)
	})
	cn.c.OnError(func(e centrifuge.ErrorEvent) {
		cn.lastError.Store(e.Error.Error())
	})
	cn.c.OnDisconnected(func(e centrifuge.DisconnectedEvent) {
		// Terminal: the SDK does not reconnect from here.
		err := fmt.Errorf("client %d disconnected: code %d, %s", idx, e.Code, e.Reason)
		cn.lastError.Store(err.Error())
		resolve(err)
	})
	return cn
}

func connectAll(o *options) ([]*conn, error) {
	conns := make([]*conn, o.clients)
	for i := range conns {
		conns[i] = newConn(o, i)
		// An error here is a failed first dial, which the SDK retries on its
		// own: the wait below decides (bounded by -connect-timeout).
		if err := conns[i].c.Connect(); err != nil {
			conns[i].lastError.Store(err.Error())
			if errors.Is(err, centrifuge.ErrClientClosed) {
				return conns, fmt.Errorf("client %d: connect: %w", i, err)
			}
		}
	}
	deadline := time.NewTimer(o.connectTimeout)
	defer deadline.Stop()
	for i, cn := range conns {
		select {
		case err := <-cn.ready:
			if err != nil {
				return conns, err
			}
		case <-deadline.C:
			connected := i
			for _, rest := range conns[i:] {
				if rest.connects.Load() > 0 {
					connected++
				}
			}
			msg, _ := cn.lastError.Load().(string)
			if msg == "" {
				msg = "no error reported"
			}
			return conns, fmt.Errorf("only %d of %d clients connected within %s (client %d: %s)",
				connected, o.clients, o.connectTimeout, i, msg)
		}
	}
	return conns, nil
}

func closeAll(conns []*conn, within time.Duration) {
	done := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		for _, cn := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cn.c.Close()
			}()
		}
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(within):
	}
}

func main() {
	o, tmpl := parseFlags()
	if o.subscribe != "" {
		runSubscribe(&o)
		return
	}

	conns, err := connectAll(&o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: %v\n", err)
		closeAll(conns, time.Second)
		os.Exit(2)
	}

	stop := &stopper{ch: make(chan struct{})}
	var pace *pacer
	if o.rate > 0 {
		pace = &pacer{interval: time.Duration(float64(time.Second) / o.rate), next: time.Now()}
	}

	start := time.Now()
	origin := start.Add(o.warmup)
	if o.duration > 0 {
		t := time.AfterFunc(o.warmup+o.duration, func() { stop.stop("duration") })
		defer t.Stop()
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-sigs:
			signal.Reset(os.Interrupt, syscall.SIGTERM) // a second signal kills
			stop.stop("signal")
		case <-stop.ch:
		}
	}()
	if o.stopFile != "" {
		go func() {
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				if _, err := os.Stat(o.stopFile); err == nil {
					stop.stop("stop-file")
					return
				}
				select {
				case <-tick.C:
				case <-stop.ch:
					return
				}
			}
		}()
	}

	var counted, warmupCalls atomic.Int64
	smp := &samples{msgs: map[string]string{}}
	perWorker := make([][]record, o.clients*o.concurrency)
	var wg sync.WaitGroup
	for ci, cn := range conns {
		for w := range o.concurrency {
			wg.Add(1)
			go func(slot int) {
				defer wg.Done()
				perWorker[slot] = worker(&o, tmpl, ci, cn, stop, pace, origin, &counted, &warmupCalls, smp)
			}(ci*o.concurrency + w)
		}
	}
	wg.Wait()
	end := time.Now()
	stop.stop("done")

	measured := max(end.Sub(origin), 0)
	report := buildReport(perWorker, measured, o.bucket)
	report.WarmupCalls = warmupCalls.Load()
	report.OriginUnixMs = origin.UnixMilli()
	report.StopReason, _ = stop.reason.Load().(string)
	for _, cn := range conns {
		report.Reconnects += max(cn.connects.Load()-1, 0)
	}
	report.ErrorSamples = smp.msgs
	report.Config = map[string]any{
		"clients":       o.clients,
		"concurrency":   o.concurrency,
		"method":        o.method,
		"rate":          o.rate,
		"payload_bytes": len(tmpl.render(nil, 0, 0)),
		"verify":        o.verify,
		"timeout_ms":    o.timeout.Milliseconds(),
		"warmup_ms":     o.warmup.Milliseconds(),
		"bucket_ms":     float64(o.bucket) / 1e6,
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(report); err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: %v\n", err)
	}
	closeAll(conns, time.Second)
}

// worker issues calls back to back on one connection until the run stops,
// and returns the records of its counted calls.
func worker(o *options, tmpl *template, ci int, cn *conn, stop *stopper, pace *pacer,
	origin time.Time, counted, warmupCalls *atomic.Int64, smp *samples) []record {
	recs := make([]record, 0, 1024)
	for !stop.stopped() {
		if !pace.wait(stop.ch) {
			break
		}
		issued := time.Now()
		isCounted := !issued.Before(origin)
		if isCounted {
			if n := counted.Add(1); o.calls > 0 && n > o.calls {
				stop.stop("calls")
				break
			}
		} else {
			warmupCalls.Add(1)
		}
		// A fresh buffer per call: the SDK may still hold the bytes after a
		// timed-out call returns.
		payload := tmpl.render(nil, ci, cn.seq.Add(1)-1)
		ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
		res, err := cn.c.RPC(ctx, o.method, payload)
		cancel()
		done := time.Now()

		kind, code, temp := kindOK, uint32(0), false
		if err != nil {
			kind, code, temp = classify(err)
			smp.note(errorKey(kind, code), err.Error())
		} else if o.verify && !sameJSON(payload, res.Data) {
			kind = kindMismatch
			smp.note("mismatched", fmt.Sprintf("sent %.120s got %.120s", payload, res.Data))
		}
		if isCounted {
			recs = append(recs, record{
				end:  int64(done.Sub(origin)),
				lat:  int64(done.Sub(issued)),
				code: code,
				kind: kind,
				temp: temp,
			})
		}
		if kind == kindDisconnected && cn.c.State() == centrifuge.StateDisconnected {
			// Terminally disconnected (the SDK will not reconnect): calls
			// fail at once, so do not spin.
			select {
			case <-time.After(100 * time.Millisecond):
			case <-stop.ch:
			}
		}
	}
	return recs
}
