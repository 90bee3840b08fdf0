package redis_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	goredis "github.com/redis/go-redis/v9"

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
	if err := srv.Client().FlushAll(context.Background()).Err(); err != nil {
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

// The hook sits on the cluster client too, and its XGROUP CREATE finds the
// stream's node; trimming and entry states run through a cluster client.
func TestSubscriber_clusterReceivesAfterFlushAll(t *testing.T) {
	t.Parallel()
	srv := startOwnCluster(t)
	s := newHealingSetup(t, srv)
	ctx := context.Background()

	s.publishAndReceive("before the flush")
	if err := srv.Client().FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	s.publishAndReceive("after the flush")
	if err := s.health.Check(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.log.String(), "level=WARN") {
		t.Fatalf("the group was not recreated through the cluster client:\n%s", s.log.String())
	}

	c := redis.NewClient(s.opts)
	defer c.Close()
	if _, ok := c.(*goredis.ClusterClient); !ok {
		t.Fatalf("cluster mode built a %T", c)
	}
	id, err := redis.NewCommandPublisher(c).Publish(ctx, s.stream, message.NewMessage("third", []byte(`{}`)))
	if err != nil {
		t.Fatal(err)
	}
	s.receive("third")
	eventually(t, 10*time.Second, "the entry is trimmed once acknowledged", func() (bool, any) {
		if _, err := redis.TrimAcknowledged(ctx, c, s.stream); err != nil {
			return false, err
		}
		state, err := redis.NewCommandPublisher(c).EntryState(ctx, s.stream, s.group, id)
		n, _ := c.XLen(ctx, s.stream).Result()
		return err == nil && state == redis.EntryGone && n == 0, fmt.Sprint(state, err, n)
	})
}

func TestSubscriber_reportedWhileRedisIsDownAndReceivesAfterItsRestart(t *testing.T) {
	t.Parallel()
	srv := startOwnRedis(t)
	s := newHealingSetup(t, srv)

	s.publishAndReceive("before the restart")
	srv.Kill()
	var report error
	eventually(t, 20*time.Second, "the consumer is reported failing", func() (bool, any) {
		report = s.health.Check()
		return report != nil, report
	})
	if !strings.Contains(report.Error(), "consumer worker-1 of group "+s.group+" cannot read stream "+s.stream) {
		t.Fatalf("report %q does not name the consumer", report)
	}
	srv.Start() // empty: no persistence
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
	opts          *redis.Options
	pub           message.Publisher
	msgs          <-chan *message.Message
}

// newHealingSetup subscribes a subscriber built by NewSubscriber to a stream
// of srv, with the default grace, and opens a publisher on srv.
func newHealingSetup(t *testing.T, srv *ownRedis) *healingSetup {
	t.Helper()
	opts, err := redis.ParseURL(srv.URL(), srv.mode)
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
	s.opts = opts
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
	s.receive(msg.UUID)
}

// receive waits until the subscriber delivers message uuid, acknowledging
// every message it delivers.
func (s *healingSetup) receive(uuid string) {
	s.t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case m := <-s.msgs:
			m.Ack()
			if m.UUID == uuid {
				return
			}
		case <-timeout:
			s.t.Fatalf("message %s not received in 20s; health: %v", uuid, s.health.Check())
		}
	}
}
