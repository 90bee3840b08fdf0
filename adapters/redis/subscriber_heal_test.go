package redis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
)

// A Redis without persistence comes back empty from a FLUSHALL, a restart or a
// failover: the subscriber goes on receiving without being restarted, and its
// consumer is reported only while Redis is away.

func TestSubscriber_receivesAfterFlushAll(t *testing.T) {
	t.Parallel()
	srv := startOwnRedis(t)
	s := newHealingSetup(t, srv)

	s.publishAndReceive("before the flush")
	if err := srv.client().FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	s.publishAndReceive("after the flush")
	eventually(t, 10*time.Second, "the consumer is healthy", func() (bool, any) {
		err := s.health.Check()
		return err == nil, err
	})
	if log := s.log.String(); !strings.Contains(log, "level=WARN") || !strings.Contains(log, "stream="+s.stream) || !strings.Contains(log, "group="+s.group) {
		t.Fatalf("no warning that the group was recreated:\n%s", log)
	}
}

func TestSubscriber_reportedWhileRedisIsDownAndReceivesAfterItsRestart(t *testing.T) {
	t.Parallel()
	srv := startOwnRedis(t)
	s := newHealingSetup(t, srv)

	s.publishAndReceive("before the restart")
	srv.stop()
	var report error
	eventually(t, 20*time.Second, "the consumer is reported failing", func() (bool, any) {
		report = s.health.Check()
		return report != nil, report
	})
	if !strings.Contains(report.Error(), "consumer worker-1 of group "+s.group+" cannot read stream "+s.stream) {
		t.Fatalf("report %q does not name the consumer", report)
	}
	srv.start() // empty: no persistence
	eventually(t, 20*time.Second, "the consumer is healthy again", func() (bool, any) {
		err := s.health.Check()
		return err == nil, err
	})
	s.publishAndReceive("after the restart")
}

type healingSetup struct {
	t             *testing.T
	stream, group string
	health        *redis.ConsumerHealth
	log           *logBuffer
	pub           message.Publisher
	msgs          <-chan *message.Message
}

// newHealingSetup subscribes a subscriber built by NewSubscriber to a stream
// of srv, with the default grace, and opens a publisher on srv.
func newHealingSetup(t *testing.T, srv *ownRedis) *healingSetup {
	t.Helper()
	opts, err := redis.ParseURL(srv.url(), redis.ModeSingle)
	if err != nil {
		t.Fatal(err)
	}
	s := &healingSetup{
		t: t, stream: "test.commands.CreateMemory", group: "test.CreateMemory",
		health: redis.NewConsumerHealth(0), log: &logBuffer{},
	}
	sub := newTestSubscriber(t, opts, s.group, s.health, s.log)
	if s.msgs, err = sub.Subscribe(t.Context(), s.stream); err != nil {
		t.Fatal(err)
	}
	pub, err := redis.NewPublisher(opts, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close() })
	s.pub = pub
	return s
}

// publishAndReceive publishes a message and waits until the subscriber
// delivers it, acknowledging it.
func (s *healingSetup) publishAndReceive(payload string) {
	s.t.Helper()
	msg := message.NewMessage(payload, []byte(`"`+payload+`"`))
	if err := s.pub.Publish(s.stream, msg); err != nil {
		s.t.Fatalf("publish %q: %v", payload, err)
	}
	timeout := time.After(20 * time.Second)
	for {
		select {
		case m := <-s.msgs:
			m.Ack()
			if m.UUID == msg.UUID {
				return
			}
		case <-timeout:
			s.t.Fatalf("message %q not received in 20s; health: %v", payload, s.health.Check())
		}
	}
}
