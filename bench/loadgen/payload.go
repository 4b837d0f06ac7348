package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Placeholders a -params template may use. They are replaced textually, so
// {{client}} and {{seq}} stand where a JSON number may, and {{pad}} inside a
// JSON string (it expands to ASCII 'x' characters, which need no escaping).
const (
	phClient = "{{client}}"
	phSeq    = "{{seq}}"
	phPad    = "{{pad}}"
)

// defaultEchoTemplate is the system.echo payload. Its keys are in sorted
// order because the server re-serializes the value (serde_json without
// preserve_order sorts object keys): a correct echo is then byte-identical.
const defaultEchoTemplate = `{"client":{{client}},"pad":"{{pad}}","seq":{{seq}}}`

// segment is a literal piece of a template, or a placeholder.
type segment struct {
	lit  []byte
	hole string // phClient, phSeq, phPad, or "" for a literal
}

// template renders the payload of one call.
type template struct {
	segs   []segment
	pad    []byte
	static []byte // the whole payload when the template has no client/seq hole
}

func parseTemplate(src string) (*template, error) {
	t := &template{}
	rest := src
	for len(rest) > 0 {
		i := strings.Index(rest, "{{")
		if i < 0 {
			t.segs = append(t.segs, segment{lit: []byte(rest)})
			break
		}
		if i > 0 {
			t.segs = append(t.segs, segment{lit: []byte(rest[:i])})
		}
		matched := false
		for _, ph := range []string{phClient, phSeq, phPad} {
			if strings.HasPrefix(rest[i:], ph) {
				t.segs = append(t.segs, segment{hole: ph})
				rest = rest[i+len(ph):]
				matched = true
				break
			}
		}
		if !matched {
			// Not a placeholder: keep the braces literally.
			t.segs = append(t.segs, segment{lit: []byte("{{")})
			rest = rest[i+2:]
		}
	}
	sample := t.render(nil, 0, 0)
	if !json.Valid(sample) {
		return nil, fmt.Errorf("-params is not valid JSON once placeholders are filled in: %s", sample)
	}
	return t, nil
}

func (t *template) has(ph string) bool {
	for _, s := range t.segs {
		if s.hole == ph {
			return true
		}
	}
	return false
}

// setPayloadBytes sizes the pad so that the payload of client 0, call 0 is
// about n bytes (it grows by a few bytes as the numbers grow).
func (t *template) setPayloadBytes(n int) {
	t.pad = nil
	base := len(t.render(nil, 0, 0))
	t.pad = bytes.Repeat([]byte("x"), max(0, n-base))
	if !t.has(phClient) && !t.has(phSeq) {
		t.static = t.render(nil, 0, 0)
	}
}

// render appends the payload for (client, seq) to dst.
func (t *template) render(dst []byte, client int, seq uint64) []byte {
	if t.static != nil {
		return t.static // never modified by the caller
	}
	for _, s := range t.segs {
		switch s.hole {
		case "":
			dst = append(dst, s.lit...)
		case phClient:
			dst = strconv.AppendInt(dst, int64(client), 10)
		case phSeq:
			dst = strconv.AppendUint(dst, seq, 10)
		case phPad:
			dst = append(dst, t.pad...)
		}
	}
	return dst
}

// sameJSON reports whether reply equals the request: byte for byte, or else
// as JSON values (numbers compared by their exact text).
func sameJSON(request, reply []byte) bool {
	if bytes.Equal(request, reply) {
		return true
	}
	a, errA := decodeJSON(request)
	b, errB := decodeJSON(reply)
	if errA != nil || errB != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}

func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data")
	}
	return v, nil
}
