package redis_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

// An answer lost on its way: Redis gave the consumer an entry, but the
// connection dropped before the answer arrived (as it does for a worker
// paused past its read's deadline). The subscriber delivers the entry at
// once, not after the group's claim idle time, and does not deliver again
// the entry it is still handling.
//
// go-redis retries a read whose connection dropped (the retry comes back
// empty); one that failed otherwise (a paused process's deadline, here an
// error in the answer's place) returns the failure.
func TestSubscriber_deliversAnEntryWhoseReadWasLost(t *testing.T) {
	t.Parallel()
	for name, instead := range map[string][]byte{
		"the connection dropped":  nil,
		"the read failed instead": []byte("-ERR the answer was lost\r\n"),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			deliversLostEntry(t, instead)
		})
	}
}

func deliversLostEntry(t *testing.T, instead []byte) {
	ctx := context.Background()
	prefix := redistest.Prefix(t)
	stream, group := prefix+".commands.CreateMemory", prefix+".CreateMemory"
	proxy := newAnswerDropper(t, instead)

	viaProxy, err := redis.ParseURL("redis://"+proxy.addr()+"/0", redis.ModeSingle)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := redis.NewSubscriber(viaProxy, redis.SubscriberConfig{
		ConsumerGroup: group, Consumer: "worker-1",
		ClaimIdle: time.Minute, // Watermill's own claim would bring it back only after this
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	msgs, err := sub.Subscribe(t.Context(), stream)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := redis.ParseURL(redistest.URL(), redis.ModeSingle)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := redis.NewPublisher(direct, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close() })

	handling := message.NewMessage("handling", []byte(`"handling"`))
	if err := pub.Publish(stream, handling); err != nil {
		t.Fatal(err)
	}
	first := next(t, msgs, 10*time.Second)
	if first.UUID != handling.UUID {
		t.Fatalf("got %s first, want %s", first.UUID, handling.UUID)
	}

	// While that one is handled, the consumer's read of the next is lost.
	lost := message.NewMessage("lost", []byte(`"lost"`))
	proxy.arm(lost.UUID)
	if err := pub.Publish(stream, lost); err != nil {
		t.Fatal(err)
	}
	select {
	case <-proxy.dropped:
	case <-time.After(10 * time.Second):
		t.Fatal("the answer carrying the entry never passed the proxy")
	}
	first.Ack()

	got := next(t, msgs, 10*time.Second)
	if got.UUID != lost.UUID {
		t.Fatalf("after the lost read the subscriber delivered %s (%s), want the lost entry %s", got.UUID, got.Payload, lost.UUID)
	}
	got.Ack()

	c := redistest.Client(t)
	eventually(t, 10*time.Second, "nothing is pending in the group", func() (bool, any) {
		p, err := c.XPending(ctx, stream, group).Result()
		return err == nil && p.Count == 0, fmt.Sprint(p, err)
	})
}

// next is the subscriber's next message, or a failure after timeout.
func next(t *testing.T, msgs <-chan *message.Message, timeout time.Duration) *message.Message {
	t.Helper()
	select {
	case m := <-msgs:
		return m
	case <-time.After(timeout):
		t.Fatalf("no message within %s", timeout)
		return nil
	}
}

// answerDropper is a TCP proxy in front of the test Redis that can lose one
// answer: armed with a marker, it drops the first connection whose answer
// holds the marker, without passing that answer on, or passes instead in
// the answer's place when set.
type answerDropper struct {
	ln      net.Listener
	instead []byte
	mu      sync.Mutex
	marker  []byte
	dropped chan struct{}
}

func newAnswerDropper(t *testing.T, instead []byte) *answerDropper {
	t.Helper()
	u, err := url.Parse(redistest.URL())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &answerDropper{ln: ln, instead: instead, dropped: make(chan struct{})}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", u.Host)
			if err != nil {
				_ = client.Close()
				continue
			}
			go func() { _, _ = io.Copy(server, client); _ = server.Close() }()
			go p.answer(client, server)
		}
	}()
	return p
}

func (p *answerDropper) addr() string { return p.ln.Addr().String() }

func (p *answerDropper) arm(marker string) {
	p.mu.Lock()
	p.marker = []byte(marker)
	p.mu.Unlock()
}

// answer passes Redis's answers on to the client, but drops the connection,
// and the answer, when it holds the armed marker (looked for across reads).
func (p *answerDropper) answer(client, server net.Conn) {
	defer client.Close()
	defer server.Close()
	buf := make([]byte, 64<<10)
	var tail []byte
	for {
		n, err := server.Read(buf)
		if n > 0 {
			p.mu.Lock()
			marker := p.marker
			hit := marker != nil && bytes.Contains(append(tail, buf[:n]...), marker)
			if hit {
				p.marker = nil
			}
			p.mu.Unlock()
			if hit {
				close(p.dropped)
				if p.instead == nil {
					return
				}
				if _, err := client.Write(p.instead); err != nil {
					return
				}
				tail = tail[:0]
				continue
			}
			if _, err := client.Write(buf[:n]); err != nil {
				return
			}
			tail = append(tail[:0], buf[max(0, n-len(marker)):n]...)
		}
		if err != nil {
			return
		}
	}
}
