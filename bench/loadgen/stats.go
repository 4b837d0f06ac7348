package main

import (
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/centrifugal/centrifuge-go"
)

// Outcome kinds of a counted call.
const (
	kindOK uint8 = iota
	kindMismatch
	kindServer // code in record.code
	kindTimeout
	kindDisconnected
	kindOther
)

var clientKindNames = map[uint8]string{
	kindTimeout:      "timeout",
	kindDisconnected: "disconnected",
	kindOther:        "other",
}

// record is one counted call. Times are nanoseconds from the origin (the end
// of warmup).
type record struct {
	end  int64 // completion time
	lat  int64 // latency
	code uint32
	kind uint8
	temp bool // a server error marked temporary
}

// classify maps an RPC error to an outcome kind (and server code, and whether
// the server marked it temporary).
func classify(err error) (uint8, uint32, bool) {
	var se *centrifuge.Error
	if errors.As(err, &se) {
		return kindServer, se.Code, se.Temporary
	}
	var sv centrifuge.Error
	if errors.As(err, &sv) {
		return kindServer, sv.Code, sv.Temporary
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, centrifuge.ErrTimeout):
		return kindTimeout, 0, false
	case errors.Is(err, centrifuge.ErrClientDisconnected), errors.Is(err, centrifuge.ErrClientClosed):
		return kindDisconnected, 0, false
	}
	return kindOther, 0, false
}

func errorKey(kind uint8, code uint32) string {
	if kind == kindServer {
		return strconv.FormatUint(uint64(code), 10)
	}
	if kind == kindMismatch {
		return "mismatched"
	}
	return clientKindNames[kind]
}

// samples keeps the first message seen for each error key (for diagnosis).
type samples struct {
	mu   sync.Mutex
	msgs map[string]string
}

func (s *samples) note(key, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.msgs[key]; !ok && len(s.msgs) < 32 {
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		s.msgs[key] = msg
	}
}

// Report is the single JSON object printed on stdout.
type Report struct {
	Calls          int               `json:"calls"`
	OK             int               `json:"ok"`
	Errors         map[string]int    `json:"errors"`
	TemporaryErrs  map[string]int    `json:"errors_temporary"`
	ClientErrors   map[string]int    `json:"client_errors"`
	Mismatched     int               `json:"mismatched"`
	DurationS      float64           `json:"duration_s"`
	RPS            float64           `json:"rps"`
	LatencyMs      *Latency          `json:"latency_ms"`
	LatencyOKMs    *Latency          `json:"latency_ok_ms"`
	Timeline       []Bucket          `json:"timeline"`
	FirstFailureMs *float64          `json:"first_failure_ms"`
	LastFailureMs  *float64          `json:"last_failure_ms"`
	WarmupCalls    int64             `json:"warmup_calls"`
	OriginUnixMs   int64             `json:"origin_unix_ms"`
	StopReason     string            `json:"stop_reason"`
	Reconnects     int64             `json:"reconnects"`
	ErrorSamples   map[string]string `json:"error_samples"`
	Config         map[string]any    `json:"config"`
}

// Latency summarizes latencies in milliseconds (exact, nearest-rank).
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Bucket counts the calls that completed in [t_ms, t_ms+bucket).
type Bucket struct {
	TMs    float64 `json:"t_ms"`
	OK     int     `json:"ok"`
	Failed int     `json:"failed"`
}

func ms(ns int64) float64 { return round(float64(ns)/1e6, 3) }

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

func summarize(lats []int64) *Latency {
	if len(lats) == 0 {
		return nil
	}
	slices.Sort(lats)
	at := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(lats)))) - 1
		return ms(lats[min(max(i, 0), len(lats)-1)])
	}
	var sum float64
	for _, l := range lats {
		sum += float64(l)
	}
	return &Latency{
		P50:  at(0.50),
		P90:  at(0.90),
		P99:  at(0.99),
		P999: at(0.999),
		Max:  ms(lats[len(lats)-1]),
		Mean: round(sum/float64(len(lats))/1e6, 3),
	}
}

// buildReport aggregates the per-worker records; measured is the time from the
// origin to the moment the last call completed.
func buildReport(perWorker [][]record, measured time.Duration, bucket time.Duration) Report {
	r := Report{
		Errors:        map[string]int{},
		TemporaryErrs: map[string]int{},
		ClientErrors:  map[string]int{"timeout": 0, "disconnected": 0, "other": 0},
		Timeline:      []Bucket{},
	}
	n := 0
	for _, w := range perWorker {
		n += len(w)
	}
	all := make([]int64, 0, n)
	okLats := make([]int64, 0, n)
	var last int64
	for _, w := range perWorker {
		for _, rec := range w {
			last = max(last, rec.end)
		}
	}
	nb := int(last/int64(bucket)) + 1
	if n == 0 {
		nb = 0
	}
	buckets := make([]Bucket, nb)
	for i := range buckets {
		buckets[i].TMs = round(float64(time.Duration(i)*bucket)/1e6, 3)
	}
	var first, lastFail int64 = -1, -1
	for _, w := range perWorker {
		for _, rec := range w {
			r.Calls++
			all = append(all, rec.lat)
			b := &buckets[rec.end/int64(bucket)]
			if rec.kind == kindOK {
				r.OK++
				okLats = append(okLats, rec.lat)
				b.OK++
				continue
			}
			b.Failed++
			if first < 0 || rec.end < first {
				first = rec.end
			}
			lastFail = max(lastFail, rec.end)
			switch rec.kind {
			case kindMismatch:
				r.Mismatched++
			case kindServer:
				r.Errors[errorKey(rec.kind, rec.code)]++
				if rec.temp {
					r.TemporaryErrs[errorKey(rec.kind, rec.code)]++
				}
			default:
				r.ClientErrors[clientKindNames[rec.kind]]++
			}
		}
	}
	r.Timeline = buckets
	r.LatencyMs = summarize(all)
	r.LatencyOKMs = summarize(okLats)
	if first >= 0 {
		f, l := round(float64(first)/1e6, 1), round(float64(lastFail)/1e6, 1)
		r.FirstFailureMs, r.LastFailureMs = &f, &l
	}
	r.DurationS = round(measured.Seconds(), 3)
	if measured > 0 {
		r.RPS = round(float64(r.OK)/measured.Seconds(), 1)
	}
	return r
}
