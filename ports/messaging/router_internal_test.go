package messaging

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

// A call the breaker (or the budget) held back is redelivered, never retried in
// place nor parked; a real transient failure is retried.
func TestNotSentCallsAreRedeliveredLater(t *testing.T) {
	t.Parallel()
	notSent := &memory.BankError{Transient: true, Reason: "circuit open", RetryAfter: time.Minute}
	if !redeliverLater(notSent) {
		t.Error("a not-sent call would spend retries")
	}
	if redeliverLater(&memory.BankError{Transient: true, StatusCode: 503, Reason: "service unavailable"}) {
		t.Error("a 503 would skip its retries")
	}
}

// holdBack holds a not-sent command for the time it is told, but never past
// the end of the message's context, and passes the error on for the nack.
func TestHoldBackEndsWithTheMessage(t *testing.T) {
	t.Parallel()
	notSent := &memory.BankError{Transient: true, Reason: "circuit open", RetryAfter: time.Hour}
	h := holdBack(time.Hour)(func(*message.Message) ([]*message.Message, error) { return nil, notSent })
	msg := message.NewMessage("1", nil)
	ctx, cancel := context.WithCancel(context.Background())
	msg.SetContext(ctx)
	cancel()
	if _, err := h(msg); !errors.Is(err, notSent) {
		t.Fatalf("holdBack returned %v", err)
	}
}
