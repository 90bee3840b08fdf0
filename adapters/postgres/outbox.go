package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"github.com/ThreeDotsLabs/watermill/components/forwarder"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/stoplog"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/tracing"
)

const (
	outboxTable        = "custom_gpt_outbox"
	outboxOffsetsTable = "custom_gpt_outbox_offsets"
)

// outboxSchema points watermill-sql at our own tables, created by migrations.
var (
	outboxSchema  = wsql.DefaultPostgreSQLSchema{GenerateMessagesTableName: func(string) string { return outboxTable }}
	outboxOffsets = wsql.DefaultPostgreSQLOffsetsAdapter{GenerateMessagesOffsetsTableName: func(string) string { return outboxOffsetsTable }}
)

// Outbox publishes events inside a caller's transaction: each event is a row in
// custom_gpt_outbox, visible to the forwarder only once the transaction commits.
// Each carries its correlation id, CloudEvent attributes (events.CE*) and,
// inside a trace, the trace context in its metadata; the CloudEvent source is
// the stream prefix's (Topics.Source).
type Outbox struct {
	topics    events.Topics
	marshaler cqrs.CommandEventMarshaler
	logger    watermill.LoggerAdapter
}

func NewOutbox(topics events.Topics, marshaler cqrs.CommandEventMarshaler, logger watermill.LoggerAdapter) *Outbox {
	return &Outbox{topics: topics, marshaler: marshaler, logger: logger}
}

// outboxEvent is an event with the context it was published in: its
// correlation id goes with it.
type outboxEvent struct {
	ctx   context.Context
	event any
}

// outboxMessage is an event made a message, with the stream it goes to.
type outboxMessage struct {
	topic string
	msg   *message.Message
}

// publishAll writes events to the outbox inside tx (see write).
func (o *Outbox) publishAll(tx pgx.Tx, evs []outboxEvent) error {
	msgs := make([]outboxMessage, len(evs))
	for i, ev := range evs {
		var err error
		if msgs[i], err = o.message(ev); err != nil {
			return err
		}
	}
	return o.write(tx, msgs)
}

// write writes msgs to the outbox inside tx, enveloped for Watermill's
// forwarder (the envelope keeps the real destination stream, so one table
// serves every event), one row per topic (several events bundled), so that a
// batch of reads (see TxGroup) or a transaction's completions cost a row, not
// one per event. Each event keeps its order among those of its topic.
func (o *Outbox) write(tx pgx.Tx, msgs []outboxMessage) error {
	pub, err := wsql.NewPublisher(wsql.TxFromPgx(laterExecs{tx}), wsql.PublisherConfig{SchemaAdapter: outboxSchema}, o.logger)
	if err != nil {
		return err
	}
	rows := &countedRows{Publisher: pub}
	out := forwarder.NewPublisher(rows, forwarder.PublisherConfig{ForwarderTopic: o.topics.Outbox()})
	var (
		topics  []string
		byTopic = map[string][]*message.Message{}
	)
	for _, m := range msgs {
		if _, seen := byTopic[m.topic]; !seen {
			topics = append(topics, m.topic)
		}
		byTopic[m.topic] = append(byTopic[m.topic], m.msg)
	}
	for _, topic := range topics {
		batch := byTopic[topic]
		rows.events = len(batch)
		if len(batch) > 1 {
			b, err := bundle(batch)
			if err != nil {
				return err
			}
			batch = []*message.Message{b}
		}
		if err := out.Publish(topic, batch...); err != nil {
			return fmt.Errorf("publish to outbox %s: %w", topic, err)
		}
	}
	return nil
}

// laterExecs is tx for Watermill's SQL publisher, which reads nothing back from
// its inserts: they go out with the transaction's next statement (execLater).
type laterExecs struct{ pgx.Tx }

func (l laterExecs) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return pgconn.CommandTag{}, execLater(ctx, l.Tx, "insert into the outbox", sql, args...)
}

// message is ev as Watermill's CQRS event bus would publish it: marshalled,
// with its correlation id and its CloudEvents attributes, on its event's topic.
func (o *Outbox) message(ev outboxEvent) (outboxMessage, error) {
	name := o.marshaler.Name(ev.event)
	msg, err := o.marshaler.Marshal(ev.event)
	if err != nil {
		return outboxMessage{}, fmt.Errorf("marshal %s: %w", name, err)
	}
	msg.SetContext(ev.ctx)
	if id := events.CorrelationID(ev.ctx); id != "" {
		middleware.SetCorrelationID(id, msg)
	}
	attrs, err := events.CloudEventAttributes(msg.UUID, o.topics.Source(), name, ev.event)
	if err != nil {
		return outboxMessage{}, err
	}
	for k, v := range attrs {
		msg.Metadata.Set(k, v)
	}
	// The event's trace: where it was made (the distributed tracing
	// extension, kept), and the hop's traceparent, which the relay replaces
	// with its own span as it passes the event on.
	if parent := tracing.TraceParent(ev.ctx); parent != "" {
		msg.Metadata.Set(events.CETraceParent, parent)
		tracing.Inject(ev.ctx, msg.Metadata)
	}
	return outboxMessage{topic: o.topics.Event(name), msg: msg}, nil
}

// ForwarderConfig tunes the relay from the outbox table to Redis.
type ForwarderConfig struct {
	PollInterval time.Duration // how often an idle relay looks for new rows
}

// NewForwarder relays committed outbox rows to their Redis streams, in commit
// order, at least once. Several relays may run: the offsets row lock keeps them
// from relaying one row twice at the same time.
func NewForwarder(pool *pgxpool.Pool, out message.Publisher, topics events.Topics, cfg ForwarderConfig, logger watermill.LoggerAdapter) (*forwarder.Forwarder, error) {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 100 * time.Millisecond
	}
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	sub, err := wsql.NewSubscriber(wsql.BeginnerFromPgx(pool), wsql.SubscriberConfig{
		ConsumerGroup:    "forwarder",
		PollInterval:     cfg.PollInterval,
		ResendInterval:   time.Second,
		RetryInterval:    time.Second,
		SchemaAdapter:    outboxSchema,
		OffsetsAdapter:   outboxOffsets,
		InitializeSchema: false,
	}, stoplog.Logger{LoggerAdapter: logger, Stopping: relayStopping})
	if err != nil {
		return nil, fmt.Errorf("outbox subscriber: %w", err)
	}
	return forwarder.NewForwarder(sub, unbundling{out}, logger, forwarder.Config{ForwarderTopic: topics.Outbox()})
}

// PruneOutbox deletes outbox rows older than retention that the forwarder has
// already relayed (at or below its acknowledged offset), so the table does not
// grow forever. Rows not yet relayed are never touched, whatever their age.
func PruneOutbox(ctx context.Context, pool *pgxpool.Pool, retention time.Duration) (int64, error) {
	tag, err := pool.Exec(ctx, `DELETE FROM `+outboxTable+` o
		USING `+outboxOffsetsTable+` f
		WHERE f.consumer_group = 'forwarder'
		  AND o.created_at < now() - make_interval(secs => $1)
		  AND (o.transaction_id < f.last_processed_transaction_id
		       OR (o.transaction_id = f.last_processed_transaction_id AND o."offset" <= f.offset_acked))`,
		retention.Seconds())
	if err != nil {
		return 0, fmt.Errorf("prune outbox: %w", err)
	}
	return tag.RowsAffected(), nil
}

// relayStopping tells what the forwarder's subscriber logs at every stop.
// Stopping cancels the subscriber's poll mid-query, pgx then closes the
// connection under the poll's transaction, and watermill-sql logs the commit
// that follows as an error. A connection the server closed also fails the
// next poll's begin, which stays an error.
func relayStopping(msg string, err error) bool {
	return msg == "could not commit tx for querying message" && errors.Is(err, pgconn.ErrConnClosed)
}
