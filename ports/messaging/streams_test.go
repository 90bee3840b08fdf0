package messaging

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// subscriptions records what the routers subscribe to, in which group.
type subscriptions struct {
	mu  sync.Mutex
	got []Consumed
}

func (s *subscriptions) open(sub Subscription) (message.Subscriber, error) {
	return &recordingSubscriber{record: s, group: sub.ConsumerGroup}, nil
}

// recordingSubscriber delivers nothing; its channels close with it or with
// their subscription's context, as a real subscriber's do.
type recordingSubscriber struct {
	record *subscriptions
	group  string
	mu     sync.Mutex
	chans  []chan *message.Message
	closed bool
}

func (r *recordingSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	r.record.mu.Lock()
	r.record.got = append(r.record.got, Consumed{Stream: topic, Group: r.group})
	r.record.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	ch := make(chan *message.Message)
	r.chans = append(r.chans, ch)
	context.AfterFunc(ctx, func() { _ = r.Close() })
	return ch, nil
}

func (r *recordingSubscriber) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.closed = true
		for _, ch := range r.chans {
			close(ch)
		}
	}
	return nil
}

// ConsumedStreams, which the stream metrics watch, are exactly the streams
// and groups the worker's routers read.
func TestConsumedStreamsAreWhatTheRoutersRead(t *testing.T) {
	t.Parallel()
	var subs subscriptions
	cfg := Config{Topics: events.Topics{Prefix: "p"}, Subscribe: subs.open, Consumer: "c"}
	logger := watermill.NopLogger{}
	build := []func() (*message.Router, error){
		func() (*message.Router, error) {
			return NewCommandRouter(cfg, app.Application{}, nopPublisher{}, logger)
		},
		func() (*message.Router, error) { return NewPoisonRouter(cfg, app.Application{}, logger) },
		func() (*message.Router, error) { return NewWebhookRouter(cfg, app.Application{}, logger) },
		func() (*message.Router, error) { return NewForgottenRouter(cfg, app.Application{}, logger) },
	}
	for _, b := range build {
		r, err := b()
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- r.Run(context.Background()) }()
		<-r.Running()
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}

	key := func(c Consumed) string { return c.Stream + " " + c.Group }
	var read, listed []string
	for _, c := range subs.got {
		read = append(read, key(c))
	}
	for _, c := range ConsumedStreams(cfg.Topics) {
		listed = append(listed, key(c))
	}
	slices.Sort(read)
	slices.Sort(listed)
	if !slices.Equal(slices.Compact(read), listed) {
		t.Errorf("the routers read\n  %s\nConsumedStreams lists\n  %s", strings.Join(read, "\n  "), strings.Join(listed, "\n  "))
	}
}

type nopPublisher struct{}

func (nopPublisher) Publish(string, ...*message.Message) error { return nil }
func (nopPublisher) Close() error                              { return nil }
