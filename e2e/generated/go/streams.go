package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/centrifugal/centrifuge-go"

	client "tasksclient"
)

// streams checks the generated subscription streams and typed channels through the real
// Centrifugo, on a connection of its own (user 42), with the app's metrics at metricsURL and
// Centrifugo's server API at apiURL (to publish what the app never would).
func streams(url, token, metricsURL, apiURL, apiKey string) {
	ctx, cancel := timeout(60 * time.Second)
	defer cancel()
	api := client.NewAPIClient(url, token)
	if err := api.Connect(ctx); err != nil {
		check("streams: connect", false, "%v", err)
		return
	}
	defer api.Close()

	countToTheEnd(ctx, api)
	countRefused(ctx, api)
	countLeftEarly(ctx, api, metricsURL)
	tally(ctx, api)
	watchTasks(ctx, api)
	chat(ctx, api)
	typedChannels(ctx, api, apiURL, apiKey)
}

// within is ctx bounded to d, for one stream.
func within(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

func countToTheEnd(ctx context.Context, api *client.APIClient) {
	ctx, cancel := within(ctx, 15*time.Second)
	defer cancel()
	st, err := api.WatchCount(ctx, client.CountParams{From: ptr(uint64(5)), Count: 50})
	if err != nil {
		check("watch:count opens", false, "%v", err)
		return
	}
	check("watch:count channel", st.Channel() == "watch:count", "%q", st.Channel())
	var got []uint64
	users := true
	var end error
	for item, err := range st.Items() {
		if err != nil {
			end = err
			break
		}
		got = append(got, item.N)
		users = users && item.User == "42"
	}
	want := make([]uint64, 0, 50)
	for n := uint64(5); n < 55; n++ {
		want = append(want, n)
	}
	check("watch:count {from 5, count 50}: items 5..54 in order, then the end (2000)",
		end == nil && fmt.Sprint(got) == fmt.Sprint(want), "end %v, got %v", end, got)
	check("watch:count items are typed (Count.User)", users && len(got) > 0, "%v", got)
	check("watch:count ended by the server, not by the ctx", ctx.Err() == nil, "%v", ctx.Err())
	again := 0
	for range st.Items() {
		again++
	}
	check("Items ranges once", again == 1, "%d values on the second range", again)
}

func countRefused(ctx context.Context, api *client.APIClient) {
	ctx, cancel := within(ctx, 15*time.Second)
	defer cancel()
	st, err := api.WatchCount(ctx, client.CountParams{Count: 20_000_000})
	var e *client.RPCError
	check("watch:count with count 20000000 → *RPCError 422", st == nil && errors.As(err, &e) && e.Code == client.CodeInvalidParams,
		"%T %v", err, err)
	if e != nil {
		check("the refusal's message is the handler's", strings.Contains(e.Message, "count must be at most 10 000 000"), "%q", e.Message)
	}
	st, err = api.WatchCount(ctx, client.CountParams{From: ptr(uint64(1)), Count: 2})
	if err != nil {
		check("watch:count opens again after a refusal", false, "%v", err)
		return
	}
	var got []uint64
	var end error
	for item, err := range st.Items() {
		if err != nil {
			end = err
			break
		}
		got = append(got, item.N)
	}
	check("watch:count opens again after a refusal", end == nil && fmt.Sprint(got) == "[1 2]", "end %v, got %v", end, got)
}

func countLeftEarly(ctx context.Context, api *client.APIClient, metricsURL string) {
	sctx, cancel := within(ctx, 15*time.Second)
	defer cancel()
	st, err := api.WatchCount(sctx, client.CountParams{Count: 1_000_000, IntervalMs: ptr(uint64(10))})
	if err != nil {
		check("watch:count (a million) opens", false, "%v", err)
		return
	}
	var got []uint64
	for item, err := range st.Items() {
		if err != nil {
			check("watch:count (a million) items", false, "%v", err)
			break
		}
		got = append(got, item.N)
		if len(got) == 3 {
			break
		}
	}
	check("watch:count: 3 items, then break", fmt.Sprint(got) == "[0 1 2]", "%v", got)
	_, found := api.SDK().GetSubscription("watch:count")
	check("break removed the subscription from the client", !found, "still registered")

	cancelled := `centrpc_calls_total{kind="stream",method="watch:count",outcome="cancelled"}`
	active := `centrpc_streams_active{stream="watch:count"}`
	waitMetrics(ctx, api, metricsURL, "break: the server cancelled the stream", map[string]float64{cancelled: 1, active: 0})

	// ctx's end closes the stream too, and Items yields ctx's error.
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	st, err = api.WatchCount(cctx, client.CountParams{Count: 1_000_000, IntervalMs: ptr(uint64(10))})
	if err != nil {
		check("watch:count (ctx cancelled) opens", false, "%v", err)
		return
	}
	n := 0
	var end error
	for _, err := range st.Items() {
		if err != nil {
			end = err
			break
		}
		n++
		if n == 1 {
			stop()
		}
	}
	check("ctx cancelled: Items yields context.Canceled", errors.Is(end, context.Canceled), "%v after %d items", end, n)
	waitMetrics(ctx, api, metricsURL, "ctx cancelled: the server cancelled the stream", map[string]float64{cancelled: 2, active: 0})
}

// waitMetrics polls the app's metrics (staying connected with system.whoami) until the samples
// have the wanted values, for up to 10 s.
func waitMetrics(ctx context.Context, api *client.APIClient, metricsURL, name string, want map[string]float64) {
	deadline := time.Now().Add(10 * time.Second)
	var have map[string]float64
	var err error
	for {
		if _, err = api.SystemWhoami(ctx); err != nil {
			check(name, false, "system.whoami: %v", err)
			return
		}
		have, err = scrape(metricsURL)
		ok := err == nil
		for k, v := range want {
			got, present := have[k]
			ok = ok && present && got == v
		}
		if ok {
			check(name, true, "")
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	shown := map[string]any{}
	for k := range want {
		if v, ok := have[k]; ok {
			shown[k] = v
		} else {
			shown[k] = "absent"
		}
	}
	check(name, false, "want %v, have %v (%v)", want, shown, err)
}

var label = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// scrape reads the Prometheus text at url into "name{k="v",…}" (labels sorted) → value.
func scrape(url string) (map[string]float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() {
		line := strings.TrimSpace(lines.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cut := strings.LastIndexByte(line, ' ')
		value, err := strconv.ParseFloat(line[cut+1:], 64)
		if cut < 0 || err != nil {
			continue
		}
		series := line[:cut]
		if open := strings.IndexByte(series, '{'); open >= 0 {
			name := series[:open]
			var labels []string
			for _, m := range label.FindAllStringSubmatch(series[open:], -1) {
				labels = append(labels, fmt.Sprintf("%s=%q", m[1], m[2]))
			}
			sortStrings(labels)
			series = name + "{" + strings.Join(labels, ",") + "}"
		}
		out[series] = value
	}
	return out, lines.Err()
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func tally(ctx context.Context, api *client.APIClient) {
	ctx, cancel := within(ctx, 15*time.Second)
	defer cancel()
	st, err := api.Tally(ctx, "k1", client.TallyParams{Start: ptr(int64(10))})
	if err != nil {
		check("tally k1 opens", false, "%v", err)
		return
	}
	defer st.Close()
	check("tally k1 channel", st.Channel() == "tally:k1", "%q", st.Channel())
	for _, add := range []int64{5, -2} {
		err := st.Publish(ctx, client.TallyAdd{Add: add})
		check(fmt.Sprintf("tally: Publish {add: %d}", add), err == nil, "%v", err)
	}
	var got []client.Tally
	for item, err := range st.Items() {
		if err != nil {
			check("tally items", false, "%v", err)
			break
		}
		got = append(got, item)
		if len(got) == 2 {
			break
		}
	}
	want := []client.Tally{{Total: 15, Adds: 1}, {Total: 13, Adds: 2}}
	check("tally: totals 15 then 13", fmt.Sprint(got) == fmt.Sprint(want), "%+v", got)
	_, found := api.SDK().GetSubscription("tally:k1")
	check("tally: leaving the loop removed the subscription", !found, "still registered")
	err = st.Publish(ctx, client.TallyAdd{Add: 1})
	check("tally: Publish after the stream ended fails", err != nil, "published")
}

func watchTasks(ctx context.Context, api *client.APIClient) {
	ctx, cancel := within(ctx, 15*time.Second)
	defer cancel()
	st, err := api.WatchTasks(ctx, client.WatchTasks{Owner: ptr("42")})
	if err != nil {
		check("watch:tasks opens", false, "%v", err)
		return
	}
	defer st.Close()
	titles := []string{"watched one", "watched two", "watched three"}
	var ids []uint64
	for _, title := range titles {
		task, err := api.TasksCreate(ctx, client.CreateTaskParams{Title: title})
		if err != nil {
			check("watch:tasks: tasks.create", false, "%v", err)
			return
		}
		ids = append(ids, task.ID)
	}
	var got []string
	for ev, err := range st.Items() {
		if err != nil {
			check("watch:tasks items", false, "%v", err)
			break
		}
		if ev.Created == nil {
			got = append(got, "not created: "+asJSON(ev))
		} else {
			got = append(got, fmt.Sprintf("%d %s %s", ev.Created.ID, ev.Created.Title, ev.Created.Owner))
		}
		if len(got) == len(titles) {
			break
		}
	}
	want := make([]string, len(titles))
	for i := range titles {
		want[i] = fmt.Sprintf("%d %s 42", ids[i], titles[i])
	}
	check("watch:tasks: 3 created events, in order", fmt.Sprint(got) == fmt.Sprint(want), "want %q, got %q", want, got)
}

func chat(ctx context.Context, api *client.APIClient) {
	ctx, cancel := within(ctx, 15*time.Second)
	defer cancel()
	room, err := api.SubscribeChat(ctx, "room1")
	if err != nil {
		check("chat room1: subscribe", false, "%v", err)
		return
	}
	defer room.Close()
	check("chat room1: channel", room.Channel() == "chat:room1", "%q", room.Channel())
	err = api.PublishChat(ctx, "room1", client.ChatMessage{Text: "hi"})
	check("chat: PublishChat", err == nil, "%v", err)
	err = api.PublishChat(ctx, "room1", client.ChatMessage{Text: ""})
	expectRPCError("chat: an empty text → 1422", err, 1422, "text must be 1 to 500 characters", false)
	_, err = api.SDK().Publish(ctx, "chat:room1", []byte(`{"text": 5}`))
	var se *centrifuge.Error
	check("chat: a wrongly shaped publication through the SDK → 422", errors.As(err, &se) && se.Code == 422, "%T %v", err, err)
	err = api.PublishChat(ctx, "room1", client.ChatMessage{Text: "bye"})
	check("chat: PublishChat again", err == nil, "%v", err)
	var got []client.ChatPost
	for post, err := range room.Items() {
		if err != nil {
			check("chat: items", false, "%v", err)
			break
		}
		got = append(got, post)
		if len(got) == 2 {
			break
		}
	}
	want := []client.ChatPost{{Text: "hi", From: "42"}, {Text: "bye", From: "42"}}
	check("chat: receives ChatPost{hi, 42}, and nothing refused", fmt.Sprint(got) == fmt.Sprint(want), "%+v", got)
}

// serverPublish publishes data into channel with Centrifugo's server API.
func serverPublish(ctx context.Context, apiURL, apiKey, channel, data string) error {
	body := fmt.Sprintf(`{"channel": %q, "data": %s}`, channel, data)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, apiURL+"/publish", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("X-API-Key", apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || strings.Contains(string(reply), `"error"`) {
		return fmt.Errorf("%s: %s", resp.Status, reply)
	}
	return nil
}

func typedChannels(ctx context.Context, api *client.APIClient, apiURL, apiKey string) {
	ctx, cancel := within(ctx, 15*time.Second)
	defer cancel()
	events, err := api.SubscribeTasks(ctx, "42")
	if err != nil {
		check("tasks:42: subscribe", false, "%v", err)
		return
	}
	defer events.Close()
	_, err = api.SubscribeTasks(ctx, "43")
	var e *client.RPCError
	check("tasks:43 (another user's): refused with 1403", errors.As(err, &e) && e.Code == 1403, "%T %v", err, err)
	progress, err := api.SubscribeProgress(ctx, "42")
	if err != nil {
		check("#42: subscribe", false, "%v", err)
		return
	}
	defer progress.Close()
	check("#42: channel", progress.Channel() == "#42", "%q", progress.Channel())

	task, err := api.TasksCreate(ctx, client.CreateTaskParams{Title: "on my channel"})
	if err != nil {
		check("tasks:42: tasks.create", false, "%v", err)
		return
	}
	// A publication that is not a TaskEvent (published past the app): an error, then the next one.
	err = serverPublish(ctx, apiURL, apiKey, "tasks:42", `{"type": "exploded"}`)
	check("tasks:42: a foreign publication through the server API", err == nil, "%v", err)
	again, err := api.TasksCreate(ctx, client.CreateTaskParams{Title: "after the foreign one"})
	if err != nil {
		check("tasks:42: tasks.create", false, "%v", err)
		return
	}
	var got []string
	var itemErr *client.RPCError
	for ev, err := range events.Items() {
		switch {
		case err != nil:
			errors.As(err, &itemErr)
			got = append(got, "error: "+err.Error())
		case ev.Created != nil:
			got = append(got, fmt.Sprintf("created %d %s", ev.Created.ID, ev.Created.Title))
		default:
			got = append(got, "other: "+asJSON(ev))
		}
		if len(got) == 3 {
			break
		}
	}
	if len(got) == 3 {
		check("tasks:42: a created TaskEvent", got[0] == fmt.Sprintf("created %d on my channel", task.ID), "%q", got)
		check("tasks:42: a publication that is not a TaskEvent (an unknown tag) is an *RPCError CodeResult",
			itemErr != nil && itemErr.Code == client.CodeResult && !itemErr.Temporary &&
				strings.HasPrefix(itemErr.Message, "tasks:42: decoding an item: ") && strings.Contains(got[1], "exploded"), "%q", got[1])
		check("tasks:42: and the stream goes on", got[2] == fmt.Sprintf("created %d after the foreign one", again.ID), "%q", got)
	} else {
		check("tasks:42: three publications", false, "%q", got)
	}

	res, err := api.TasksProcess(ctx, client.ProcessParams{Steps: 3})
	check("tasks.process (for #42)", err == nil && res.Channel == "#42", "%v %+v", err, res)
	var steps []client.Progress
	for p, err := range progress.Items() {
		if err != nil {
			check("#42: items", false, "%v", err)
			break
		}
		steps = append(steps, p)
		if len(steps) == 3 {
			break
		}
	}
	want := []client.Progress{{Step: 1, Of: 3}, {Step: 2, Of: 3}, {Step: 3, Of: 3}}
	check("#42: the Progress items of tasks.process", fmt.Sprint(steps) == fmt.Sprint(want), "%+v", steps)
}

// resubscribe checks that a stream survives the app's restart: the SDK resubscribes (2500) and
// the same loop over Items goes on with the new stream's items. It prints READY once the stream
// works, then waits for a line on stdin (the test restarts the app meanwhile).
func resubscribe(url, token string) {
	ctx, cancel := timeout(60 * time.Second)
	defer cancel()
	api := client.NewAPIClient(url, token)
	if err := api.Connect(ctx); err != nil {
		check("resubscribe: connect", false, "%v", err)
		return
	}
	defer api.Close()
	st, err := api.WatchTasks(ctx, client.WatchTasks{Owner: ptr("42")})
	if err != nil {
		check("resubscribe: watch:tasks opens", false, "%v", err)
		return
	}
	defer st.Close()
	type event struct {
		ev  client.TaskEvent
		err error
	}
	events := make(chan event)
	go func() {
		defer close(events)
		for ev, err := range st.Items() {
			select {
			case events <- event{ev, err}:
			case <-ctx.Done():
				return
			}
		}
	}()
	created := func(title string) bool {
		// Tasks created before the stream is resubscribed are missed: create until one arrives.
		for {
			if _, err := api.TasksCreate(ctx, client.CreateTaskParams{Title: title}); err != nil {
				check("resubscribe: tasks.create "+title, false, "%v", err)
				return false
			}
			select {
			case e, open := <-events:
				ok := open && e.err == nil && e.ev.Created != nil && e.ev.Created.Title == title
				check("resubscribe: the created event of "+title, ok, "open %v, %v %s", open, e.err, asJSON(e.ev))
				return ok
			case <-time.After(300 * time.Millisecond):
			case <-ctx.Done():
				check("resubscribe: the created event of "+title, false, "%v", ctx.Err())
				return false
			}
		}
	}
	if !created("before") {
		return
	}
	fmt.Println("READY")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		check("resubscribe: the go-on line", false, "%v", err)
		return
	}
	created("after")
}
