package main

// Subscribe mode (-subscribe PREFIX): -clients connections, each subscribing
// to -subs channels PREFIX<conn>-<sub> (a connection may subscribe to a
// channel only once, so every subscription has its own channel), with
// -sub-data as the subscribe data (a stream's params). Every publication must
// be an item {"n": …, "at_us": …}: per subscription n must run 0..-items-1 in
// order, and at_us (unix microseconds when the item was produced, same
// machine) gives the delivery latency.
//
// Once every subscription is subscribed it prints one JSON line
// {"event":"subscribed",…} on stdout, so the caller can start the items (open
// a gate, start publishing) or measure the idle state; then it waits until
// every subscription has its -items items, -duration has passed since then,
// or -stop-file exists, and prints the report (a second JSON line).

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/centrifugal/centrifuge-go"
)

// item is what a subscriber receives.
type item struct {
	N    *uint64 `json:"n"`
	AtUs int64   `json:"at_us"`
}

// subState is one subscription's bookkeeping. Its SDK callbacks run on the
// connection's callback queue, one at a time; the mutex guards the reads
// made by the waiter.
type subState struct {
	mu         sync.Mutex
	seen       []bool
	distinct   int64
	maxSeen    int64
	received   int64
	duplicates int64
	outOfOrder int64
	unexpected int64
	lats       []int64 // microseconds
	first      int64   // unix µs of the first item received, 0 if none
	last       int64
}

// SubReport is the final JSON line of subscribe mode.
type SubReport struct {
	Event          string            `json:"event"`
	Subscriptions  int               `json:"subscriptions"`
	ItemsPerSub    int64             `json:"items_per_subscription"`
	Expected       int64             `json:"expected"`
	Received       int64             `json:"received"`
	Distinct       int64             `json:"distinct"`
	Lost           int64             `json:"lost"`
	Duplicates     int64             `json:"duplicates"`
	OutOfOrder     int64             `json:"out_of_order"`
	Unexpected     int64             `json:"unexpected"`
	Undecodable    int64             `json:"undecodable"`
	Complete       int               `json:"complete_subscriptions"`
	FirstItemUnix  float64           `json:"first_item_unix_ms"`
	LastItemUnix   float64           `json:"last_item_unix_ms"`
	DurationS      float64           `json:"duration_s"`
	ItemsPerS      float64           `json:"items_per_s"`
	LatencyMs      *Latency          `json:"latency_ms"`
	SubscribeS     float64           `json:"subscribe_s"`
	Unsubscribed   map[string]int64  `json:"unsubscribed"`
	SubErrors      int64             `json:"subscription_errors"`
	Resubscribes   int64             `json:"resubscribes"`
	Reconnects     int64             `json:"reconnects"`
	StopReason     string            `json:"stop_reason"`
	ErrorSamples   map[string]string `json:"error_samples"`
	SubscribeData  string            `json:"subscribe_data"`
	ChannelPattern string            `json:"channel_pattern"`
}

func runSubscribe(o *options) {
	started := time.Now()
	conns, err := connectAll(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: %v\n", err)
		closeAll(conns, time.Second)
		os.Exit(2)
	}
	total := o.clients * o.subs
	states := make([]*subState, total)
	subscribed := make(chan struct{}, total)
	var subErrors, resubscribes, undecodable atomic.Int64
	var subscribedOnce sync.Map
	var unsubMu sync.Mutex
	unsub := map[string]int64{}
	smp := &samples{msgs: map[string]string{}}
	progress := make(chan struct{}, 1)
	notify := func() {
		select {
		case progress <- struct{}{}:
		default:
		}
	}
	// At most -subscribe-concurrency subscribe requests pending at once, as when clients arrive
	// over time: a burst of thousands would wait in Centrifugo's and the backend's queues
	// past the SDK's timeout, and each timed-out attempt is retried as a new subscription.
	pending := make(chan struct{}, o.subConcurrency)
	deadline := time.NewTimer(o.connectTimeout)
	timedOut := func(got int) {
		msg := ""
		smp.mu.Lock()
		for _, m := range smp.msgs {
			msg = m
			break
		}
		smp.mu.Unlock()
		fmt.Fprintf(os.Stderr, "loadgen: only %d of %d subscriptions within %s (%s)\n",
			got, total, o.connectTimeout, msg)
		closeAll(conns, time.Second)
		os.Exit(2)
	}
	for ci, cn := range conns {
		for si := range o.subs {
			idx := ci*o.subs + si
			st := &subState{}
			if o.items > 0 {
				st.seen = make([]bool, o.items)
			}
			states[idx] = st
			channel := fmt.Sprintf("%s%d-%d", o.subscribe, ci, si)
			sub, err := cn.c.NewSubscription(channel, centrifuge.SubscriptionConfig{Data: []byte(o.subData)})
			if err != nil {
				fmt.Fprintf(os.Stderr, "loadgen: subscription %s: %v\n", channel, err)
				os.Exit(2)
			}
			sub.OnSubscribed(func(centrifuge.SubscribedEvent) {
				if _, again := subscribedOnce.LoadOrStore(idx, true); again {
					resubscribes.Add(1)
					return
				}
				<-pending
				subscribed <- struct{}{}
			})
			sub.OnError(func(e centrifuge.SubscriptionErrorEvent) {
				subErrors.Add(1)
				smp.note("subscription error", fmt.Sprintf("%s: %v", channel, e.Error))
			})
			sub.OnUnsubscribed(func(e centrifuge.UnsubscribedEvent) {
				unsubMu.Lock()
				unsub[fmt.Sprint(e.Code)]++
				unsubMu.Unlock()
				smp.note(fmt.Sprintf("unsubscribed %d", e.Code), fmt.Sprintf("%s: %s", channel, e.Reason))
				notify()
			})
			sub.OnPublication(func(e centrifuge.PublicationEvent) {
				now := time.Now().UnixMicro()
				var it item
				if err := json.Unmarshal(e.Data, &it); err != nil || it.N == nil {
					undecodable.Add(1)
					smp.note("undecodable", fmt.Sprintf("%s: %.120s", channel, e.Data))
					return
				}
				n := int64(*it.N)
				st.mu.Lock()
				st.received++
				if st.first == 0 {
					st.first = now
				}
				st.last = now
				st.lats = append(st.lats, now-it.AtUs)
				switch {
				case o.items > 0 && n >= o.items:
					st.unexpected++
				case st.seen != nil && st.seen[n]:
					st.duplicates++
				default:
					if st.seen != nil {
						st.seen[n] = true
					}
					if st.distinct > 0 && n < st.maxSeen {
						st.outOfOrder++
					}
					st.distinct++
					st.maxSeen = max(st.maxSeen, n)
				}
				complete := o.items > 0 && st.distinct == o.items
				st.mu.Unlock()
				if complete {
					notify()
				}
			})
			select {
			case pending <- struct{}{}:
			case <-deadline.C:
				timedOut(idx - len(pending))
			}
			if err := sub.Subscribe(); err != nil {
				fmt.Fprintf(os.Stderr, "loadgen: subscribe %s: %v\n", channel, err)
				os.Exit(2)
			}
		}
	}

	for got := 0; got < total; got++ {
		select {
		case <-subscribed:
		case <-deadline.C:
			timedOut(got)
		}
	}
	deadline.Stop()
	subscribeS := time.Since(started).Seconds()
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]any{"event": "subscribed", "subscriptions": total,
		"subscribe_s": round(subscribeS, 3), "unix_ms": time.Now().UnixMilli()})

	stop := &stopper{ch: make(chan struct{})}
	if o.duration > 0 {
		t := time.AfterFunc(o.duration, func() { stop.stop("duration") })
		defer t.Stop()
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !stop.stopped() {
		if o.items > 0 && allComplete(states, o.items) {
			stop.stop("complete")
			break
		}
		if o.stopFile != "" {
			if _, err := os.Stat(o.stopFile); err == nil {
				stop.stop("stop-file")
				break
			}
		}
		select {
		case <-progress:
		case <-tick.C:
		case <-sigs:
			stop.stop("signal")
		case <-stop.ch:
		}
	}

	r := SubReport{Event: "report", Subscriptions: total, ItemsPerSub: o.items,
		Expected: o.items * int64(total), SubscribeS: round(subscribeS, 3),
		SubErrors: subErrors.Load(), Resubscribes: resubscribes.Load(),
		Undecodable: undecodable.Load(), SubscribeData: o.subData,
		ChannelPattern: o.subscribe + "<conn>-<sub>"}
	r.StopReason, _ = stop.reason.Load().(string)
	var lats []int64
	var first, last int64
	for _, st := range states {
		st.mu.Lock()
		r.Received += st.received
		r.Distinct += st.distinct
		r.Duplicates += st.duplicates
		r.OutOfOrder += st.outOfOrder
		r.Unexpected += st.unexpected
		if o.items > 0 && st.distinct == o.items {
			r.Complete++
		}
		if st.first != 0 && (first == 0 || st.first < first) {
			first = st.first
		}
		last = max(last, st.last)
		for _, l := range st.lats {
			lats = append(lats, l*1000) // summarize takes nanoseconds
		}
		st.mu.Unlock()
	}
	if o.items > 0 {
		r.Lost = r.Expected - r.Distinct
	}
	if first != 0 {
		r.FirstItemUnix = float64(first) / 1000
		r.LastItemUnix = float64(last) / 1000
		r.DurationS = round(float64(last-first)/1e6, 6)
		if last > first {
			r.ItemsPerS = round(float64(r.Received)/(float64(last-first)/1e6), 1)
		}
	}
	r.LatencyMs = summarize(lats)
	unsubMu.Lock()
	r.Unsubscribed = unsub
	unsubMu.Unlock()
	for _, cn := range conns {
		r.Reconnects += max(cn.connects.Load()-1, 0)
	}
	smp.mu.Lock()
	r.ErrorSamples = smp.msgs
	_ = enc.Encode(r)
	smp.mu.Unlock()
	closeAll(conns, 2*time.Second)
}

func allComplete(states []*subState, items int64) bool {
	for _, st := range states {
		st.mu.Lock()
		done := st.distinct == items
		st.mu.Unlock()
		if !done {
			return false
		}
	}
	return true
}
