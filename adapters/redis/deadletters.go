package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	goredis "github.com/redis/go-redis/v9"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// DeadLetters reads the poison stream, where Watermill's PoisonQueue parks a
// command with the reason and its original topic in the message metadata.
type DeadLetters struct {
	client goredis.UniversalClient
	stream string
}

var _ command.DeadLetterStore = (*DeadLetters)(nil)

// NewDeadLetters reads stream with client.
func NewDeadLetters(client goredis.UniversalClient, stream string) *DeadLetters {
	return &DeadLetters{client: client, stream: stream}
}

// List returns every parked command, oldest first. An entry this version
// cannot read is listed with what could be read and the problem as reason.
func (d *DeadLetters) List(ctx context.Context) ([]command.DeadLetter, error) {
	entries, err := d.client.XRange(ctx, d.stream, "-", "+").Result()
	if err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	out := make([]command.DeadLetter, 0, len(entries))
	for _, e := range entries {
		l, _, err := d.decode(e)
		if err != nil {
			l.Reason = "unreadable entry: " + err.Error()
		}
		out = append(out, l)
	}
	return out, nil
}

func (d *DeadLetters) Get(ctx context.Context, id string) (command.DeadLetter, error) {
	l, _, err := d.get(ctx, id)
	return l, err
}

func (d *DeadLetters) Remove(ctx context.Context, id string) error {
	if err := d.client.XDel(ctx, d.stream, id).Err(); err != nil {
		return fmt.Errorf("remove dead letter %s: %w", id, err)
	}
	return nil
}

// Depth is how many commands are parked.
func (d *DeadLetters) Depth(ctx context.Context) (int64, error) {
	return d.client.XLen(ctx, d.stream).Result()
}

// Prune deletes entries parked longer than retention ago and returns how many.
func (d *DeadLetters) Prune(ctx context.Context, retention time.Duration) (int64, error) {
	minID := strconv.FormatInt(time.Now().Add(-retention).UnixMilli(), 10)
	return d.client.XTrimMinID(ctx, d.stream, minID).Result()
}

var errNoDeadLetter = errs.NotFound("dead-letter-not-found", "no dead letter with this message id")

func (d *DeadLetters) get(ctx context.Context, id string) (command.DeadLetter, *message.Message, error) {
	if !validStreamID(id) {
		return command.DeadLetter{}, nil, errNoDeadLetter
	}
	entries, err := d.client.XRange(ctx, d.stream, id, id).Result()
	if err != nil {
		return command.DeadLetter{}, nil, fmt.Errorf("read dead letter %s: %w", id, err)
	}
	if len(entries) == 0 {
		return command.DeadLetter{}, nil, errNoDeadLetter
	}
	return d.decode(entries[0])
}

// decode reads an entry written by Marshaller: the message, its metadata
// (name, poison reason and topic) and the ids every command payload carries.
func (d *DeadLetters) decode(e goredis.XMessage) (command.DeadLetter, *message.Message, error) {
	l := command.DeadLetter{ID: e.ID, ParkedAt: streamIDTime(e.ID)}
	msg, err := Marshaller{}.Unmarshal(e.Values)
	if err != nil {
		return l, nil, err
	}
	l.Command = msg.Metadata.Get("name")
	l.Reason = msg.Metadata.Get(middleware.ReasonForPoisonedKey)
	l.Topic = msg.Metadata.Get(middleware.PoisonedTopicKey)
	l.CorrelationID = middleware.MessageCorrelationID(msg)
	l.Payload = json.RawMessage(msg.Payload)
	var ids struct {
		OperationID string `json:"operation_id"`
		AppID       string `json:"app_id"`
		EndUser     string `json:"end_user"`
		MemoryID    string `json:"memory_id"`
	}
	if err := json.Unmarshal(msg.Payload, &ids); err != nil {
		return l, msg, fmt.Errorf("decode payload: %w", err)
	}
	l.OperationID, l.AppID, l.EndUser, l.MemoryID = ids.OperationID, ids.AppID, ids.EndUser, ids.MemoryID
	if l.OperationID == "" {
		return l, msg, errors.New("payload names no operation")
	}
	return l, msg, nil
}

// validStreamID accepts the "<ms>-<seq>" ids Redis gives entries, so that a
// made-up id is a clear "not found" rather than a Redis syntax error.
func validStreamID(id string) bool {
	_, err := parseStreamID(id)
	return err == nil
}

func streamIDTime(id string) time.Time {
	ms, _, _ := strings.Cut(id, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(n).UTC()
}
