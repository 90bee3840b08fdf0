// Command consumer follows one event stream of custom-gpt-adapter, the way
// another service would, and prints each event as a CloudEvent in structured
// mode (one JSON object a line).
//
// It reads with a consumer group of its own, so it never takes entries from
// the service or from other subscribers, and acknowledges each entry once it is
// printed. On start it first reads the entries it was given before but did not
// acknowledge (a crash, a kill): delivery is at least once, so a real consumer
// deduplicates on the CloudEvent id.
//
// It depends on go-redis only, so it can be copied out of this repository.
//
//	go run ./examples/consumer -stream custom_gpt.events.MemoryCreated -start 0
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// Fields of a stream entry, as the service writes them. The third,
// _watermill_message_uuid, is the message id, which ce_id repeats.
const (
	fieldPayload  = "payload"  // the event: the CloudEvent's data
	fieldMetadata = "metadata" // a JSON object of strings; ce_* are CloudEvent attributes
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "consumer:", err)
		os.Exit(1)
	}
}

type config struct {
	redisURL string
	stream   string
	group    string
	consumer string
	start    string
	block    time.Duration
}

// run parses the flags and follows the stream until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	host, _ := os.Hostname()
	var c config
	fs := flag.NewFlagSet("consumer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.redisURL, "redis", "redis://127.0.0.1:6379/0", "the service's Redis (CUSTOM_GPT_REDIS_URL)")
	fs.StringVar(&c.stream, "stream", "custom_gpt.events.MemoryCreated", "the stream to follow: <CUSTOM_GPT_STREAM_PREFIX>.events.<EventName>")
	fs.StringVar(&c.group, "group", "example-consumer", "this consumer's own group; every group gets every entry")
	fs.StringVar(&c.consumer, "consumer", host, "the consumer's name in its group; keep it across restarts to get its pending entries back")
	fs.StringVar(&c.start, "start", "$", `where a new group starts: "$" (new entries only) or "0" (everything the stream holds)`)
	fs.DurationVar(&c.block, "block", 5*time.Second, "how long one read waits for new entries")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.start != "$" && c.start != "0" {
		return fmt.Errorf(`-start must be "$" or "0", got %q`, c.start)
	}
	opts, err := redis.ParseURL(c.redisURL)
	if err != nil {
		return fmt.Errorf("-redis: %w", err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	return follow(ctx, rdb, c, json.NewEncoder(stdout), stderr)
}

// follow reads the stream through the group until ctx ends: first this
// consumer's pending entries, then new ones.
func follow(ctx context.Context, rdb *redis.Client, c config, out *json.Encoder, stderr io.Writer) error {
	// MKSTREAM: the stream may not exist before the service's first event.
	// BUSYGROUP: the group exists already and keeps its position.
	err := rdb.XGroupCreateMkStream(ctx, c.stream, c.group, c.start).Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("create group %s on %s: %w", c.group, c.stream, err)
	}

	// "0" reads what this consumer was given but has not acknowledged, from
	// the beginning; ">" reads entries no consumer of the group has seen.
	next := "0"
	for ctx.Err() == nil {
		res, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: c.group, Consumer: c.consumer, Streams: []string{c.stream, next}, Count: 100, Block: c.block,
		}).Result()
		switch {
		case errors.Is(err, redis.Nil):
			continue // nothing new within the block time
		case err != nil && ctx.Err() != nil:
			return nil // asked to stop
		case err != nil:
			return fmt.Errorf("read %s: %w", c.stream, err)
		}
		msgs := res[0].Messages
		if next != ">" {
			if len(msgs) == 0 {
				next = ">" // every pending entry handled: on to new ones
				continue
			}
			next = msgs[len(msgs)-1].ID // the pending list is read page by page
		}
		for _, m := range msgs {
			event, err := cloudEvent(m)
			if err != nil {
				// It will never become readable: report it and acknowledge it,
				// or it would come back on every restart.
				fmt.Fprintf(stderr, "consumer: skipping entry %s: %v\n", m.ID, err)
			} else if err := out.Encode(event); err != nil {
				return fmt.Errorf("print event %s: %w", m.ID, err) // not acknowledged: read again on restart
			}
			if err := rdb.XAck(ctx, c.stream, c.group, m.ID).Err(); err != nil {
				return fmt.Errorf("acknowledge %s: %w", m.ID, err)
			}
		}
	}
	return nil
}

// cloudEvent rebuilds a stream entry as a structured-mode CloudEvent: the ce_*
// metadata become the attributes, the payload (JSON) the data.
func cloudEvent(m redis.XMessage) (map[string]any, error) {
	if len(m.Values) == 0 {
		return nil, errors.New("its fields are gone (the stream was trimmed while it was pending)")
	}
	payload, _ := m.Values[fieldPayload].(string)
	if !json.Valid([]byte(payload)) {
		return nil, errors.New("its payload is not JSON")
	}
	var md map[string]string
	if raw, _ := m.Values[fieldMetadata].(string); raw != "" {
		if err := json.Unmarshal([]byte(raw), &md); err != nil {
			return nil, fmt.Errorf("its metadata is not a JSON object of strings: %w", err)
		}
	}
	event := map[string]any{"data": json.RawMessage(payload)}
	for k, v := range md {
		if name, ok := strings.CutPrefix(k, "ce_"); ok {
			event[name] = v
		}
	}
	for _, required := range []string{"specversion", "id", "source", "type"} {
		if event[required] == nil {
			return nil, fmt.Errorf("it has no ce_%s: not a CloudEvent", required)
		}
	}
	return event, nil
}
