package operation_test

import (
	"errors"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
)

func TestReopenAfterParkedFailure(t *testing.T) {
	t.Parallel()
	op := newPending(t)
	if err := op.Claim(t0, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := op.Fail(operation.Failure{Code: operation.FailureRetriesExhausted, Detail: "down"}, t0); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(time.Hour)
	if err := op.Reopen(later); err != nil {
		t.Fatalf("Reopen: %v", err)
	}
	if op.Status() != operation.StatusPending || op.IsTerminal() || op.Failure() != nil {
		t.Errorf("after reopen: status %q, failure %v", op.Status(), op.Failure())
	}
	if op.Attempts() != 1 {
		t.Errorf("attempts = %d, want the earlier attempt kept", op.Attempts())
	}
	if !op.LeaseUntil().IsZero() || !op.UpdatedAt().Equal(later) {
		t.Errorf("lease %v, updated %v", op.LeaseUntil(), op.UpdatedAt())
	}
	// A reopened operation runs and finishes like any pending one.
	if err := op.Claim(later, time.Minute); err != nil || op.Attempts() != 2 {
		t.Fatalf("claim after reopen: %v, attempts %d", err, op.Attempts())
	}
	if err := op.Succeed([]string{"m1"}, later); err != nil {
		t.Fatal(err)
	}
}

func TestReopenRefusesAllButParkedFailures(t *testing.T) {
	t.Parallel()
	succeeded := newPending(t)
	_ = succeeded.Succeed([]string{"m1"}, t0)
	rejected := newPending(t)
	_ = rejected.Fail(operation.Failure{Code: "memory-bank-rejected", Detail: "bad request"}, t0)
	for name, op := range map[string]*operation.Operation{
		"pending": newPending(t), "succeeded": succeeded, "failed for another reason": rejected,
	} {
		status := op.Status()
		if err := op.Reopen(t0.Add(time.Hour)); !errors.Is(err, operation.ErrNotReplayable) {
			t.Errorf("%s: Reopen = %v, want ErrNotReplayable", name, err)
		}
		if op.Status() != status {
			t.Errorf("%s: status moved to %q", name, op.Status())
		}
	}
}
