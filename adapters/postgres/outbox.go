package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"github.com/ThreeDotsLabs/watermill/components/forwarder"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
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
// Each carries its correlation id and CloudEvent attributes (events.CE*) in its
// metadata; the CloudEvent source is the stream prefix's (Topics.Source).
type Outbox struct {
	topics    events.Topics
	marshaler cqrs.CommandEventMarshaler
	logger    watermill.LoggerAdapter
}

func NewOutbox(topics events.Topics, marshaler cqrs.CommandEventMarshaler, logger watermill.LoggerAdapter) *Outbox {
	return &Outbox{topics: topics, marshaler: marshaler, logger: logger}
}

// publish writes event to the outbox through tx. The forwarder envelope keeps
// the real destination stream, so one table serves every event.
func (o *Outbox) publish(ctx context.Context, tx pgx.Tx, event any) error {
	pub, err := wsql.NewPublisher(wsql.TxFromPgx(tx), wsql.PublisherConfig{SchemaAdapter: outboxSchema}, o.logger)
	if err != nil {
		return err
	}
	bus, err := cqrs.NewEventBusWithConfig(
		forwarder.NewPublisher(pub, forwarder.PublisherConfig{ForwarderTopic: o.topics.Outbox()}),
		cqrs.EventBusConfig{
			GeneratePublishTopic: func(p cqrs.GenerateEventPublishTopicParams) (string, error) {
				return o.topics.Event(p.EventName), nil
			},
			// Metadata set here travels in the forwarder envelope to every
			// transport, so each sees the same CloudEvent attributes.
			OnPublish: func(p cqrs.OnEventSendParams) error {
				if id := events.CorrelationID(p.Message.Context()); id != "" {
					middleware.SetCorrelationID(id, p.Message)
				}
				attrs, err := events.CloudEventAttributes(p.Message.UUID, o.topics.Source(), p.EventName, p.Event)
				if err != nil {
					return err
				}
				for k, v := range attrs {
					p.Message.Metadata.Set(k, v)
				}
				return nil
			},
			Marshaler: o.marshaler,
			Logger:    o.logger,
		})
	if err != nil {
		return err
	}
	if err := bus.Publish(ctx, event); err != nil {
		return fmt.Errorf("publish %s to outbox: %w", events.Name(event), err)
	}
	return nil
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
	sub, err := wsql.NewSubscriber(wsql.BeginnerFromPgx(pool), wsql.SubscriberConfig{
		ConsumerGroup:    "forwarder",
		PollInterval:     cfg.PollInterval,
		ResendInterval:   time.Second,
		RetryInterval:    time.Second,
		SchemaAdapter:    outboxSchema,
		OffsetsAdapter:   outboxOffsets,
		InitializeSchema: false,
	}, logger)
	if err != nil {
		return nil, fmt.Errorf("outbox subscriber: %w", err)
	}
	return forwarder.NewForwarder(sub, out, logger, forwarder.Config{ForwarderTopic: topics.Outbox()})
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
