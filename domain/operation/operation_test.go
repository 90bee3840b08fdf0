package operation_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func newPending(t *testing.T) *operation.Operation {
	t.Helper()
	op, err := operation.New("op-1", "app-1", "user-1", operation.KindCreateMemory, t0)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return op
}

func TestNew(t *testing.T) {
	t.Parallel()

	op := newPending(t)
	if op.Status() != operation.StatusPending || op.IsTerminal() {
		t.Errorf("status = %q, want pending", op.Status())
	}
	if op.Attempts() != 0 || !op.LeaseUntil().IsZero() {
		t.Errorf("attempts = %d, lease = %v: want a fresh operation", op.Attempts(), op.LeaseUntil())
	}
	if op.ID() != "op-1" || op.AppID() != "app-1" || op.EndUser() != "user-1" || op.Kind() != operation.KindCreateMemory {
		t.Errorf("fields not kept: %+v", op)
	}

	for _, c := range []struct{ id, app string }{{"", "app"}, {"op", ""}} {
		_, err := operation.New(c.id, c.app, "", operation.KindCreateMemory, t0)
		if errs.KindOf(err) != errs.KindInvalid {
			t.Errorf("New(%q, %q) error = %v, want KindInvalid", c.id, c.app, err)
		}
	}
}

func TestClaim_lease(t *testing.T) {
	t.Parallel()

	const lease = 30 * time.Second
	op := newPending(t)

	if err := op.Claim(t0, lease); err != nil {
		t.Fatalf("first Claim: %v", err)
	}
	if op.Attempts() != 1 {
		t.Errorf("attempts = %d, want 1", op.Attempts())
	}
	if want := t0.Add(lease); !op.LeaseUntil().Equal(want) {
		t.Errorf("lease until %v, want %v", op.LeaseUntil(), want)
	}

	// A duplicate delivery while the lease runs backs off and changes nothing.
	if err := op.Claim(t0.Add(lease-time.Nanosecond), lease); !errors.Is(err, operation.ErrLeased) {
		t.Fatalf("Claim within lease = %v, want ErrLeased", err)
	}
	if op.Attempts() != 1 || !op.LeaseUntil().Equal(t0.Add(lease)) {
		t.Errorf("refused claim changed the operation: attempts %d, lease %v", op.Attempts(), op.LeaseUntil())
	}

	// Once the lease has run out, the next claim wins.
	later := t0.Add(lease)
	if err := op.Claim(later, lease); err != nil {
		t.Fatalf("Claim after lease: %v", err)
	}
	if op.Attempts() != 2 || !op.LeaseUntil().Equal(later.Add(lease)) {
		t.Errorf("attempts = %d, lease = %v after second claim", op.Attempts(), op.LeaseUntil())
	}
	if errs.KindOf(operation.ErrLeased) != errs.KindConflict {
		t.Error("ErrLeased is not a conflict")
	}
}

func TestRelease_ofAnEarlierAttemptKeepsTheLease(t *testing.T) {
	t.Parallel()

	op := newPending(t)
	if err := op.Claim(t0, time.Second); err != nil {
		t.Fatal(err)
	}
	first := op.Attempts()
	// The first worker's lease expires and a second worker claims the operation.
	if err := op.Claim(t0.Add(2*time.Second), time.Hour); err != nil {
		t.Fatal(err)
	}
	op.Release(first)
	if op.LeaseUntil().IsZero() {
		t.Fatal("a stale attempt released the current attempt's lease")
	}
	if err := op.Claim(t0.Add(3*time.Second), time.Hour); err != operation.ErrLeased {
		t.Fatalf("Claim while the second attempt holds the lease: %v", err)
	}
}

func TestRelease_letsClaimThroughAtOnce(t *testing.T) {
	t.Parallel()

	op := newPending(t)
	if err := op.Claim(t0, time.Hour); err != nil {
		t.Fatal(err)
	}
	op.Release(op.Attempts())
	if !op.LeaseUntil().IsZero() {
		t.Errorf("lease = %v after Release, want zero", op.LeaseUntil())
	}
	if err := op.Claim(t0.Add(time.Second), time.Hour); err != nil {
		t.Fatalf("Claim after Release: %v", err)
	}
	if op.Attempts() != 2 {
		t.Errorf("attempts = %d, want 2", op.Attempts())
	}
}

func TestTerminalTransitions(t *testing.T) {
	t.Parallel()

	succeed := func(op *operation.Operation, now time.Time) error { return op.Succeed([]string{"m-1", "m-2"}, now) }
	fail := func(op *operation.Operation, now time.Time) error {
		return op.Fail(operation.Failure{Code: "memory-bank-rejected", Detail: "no"}, now)
	}
	tests := []struct {
		name       string
		first      func(*operation.Operation, time.Time) error
		wantStatus operation.Status
	}{
		{"succeed", succeed, operation.StatusSucceeded},
		{"fail", fail, operation.StatusFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			op := newPending(t)
			if err := op.Claim(t0, time.Minute); err != nil {
				t.Fatal(err)
			}
			done := t0.Add(time.Second)
			if err := tt.first(op, done); err != nil {
				t.Fatalf("first transition: %v", err)
			}
			if op.Status() != tt.wantStatus || !op.IsTerminal() {
				t.Fatalf("status = %q, want %q", op.Status(), tt.wantStatus)
			}
			if !op.LeaseUntil().IsZero() {
				t.Errorf("lease = %v on a terminal operation", op.LeaseUntil())
			}
			if !op.UpdatedAt().Equal(done) {
				t.Errorf("updated at %v, want %v", op.UpdatedAt(), done)
			}
			ids, failure := slices.Clone(op.MemoryIDs()), op.Failure()

			// Neither a second terminal transition nor a claim changes anything.
			later := done.Add(time.Hour)
			for name, change := range map[string]func() error{
				"succeed": func() error { return succeed(op, later) },
				"fail":    func() error { return fail(op, later) },
				"claim":   func() error { return op.Claim(later, time.Minute) },
			} {
				if err := change(); !errors.Is(err, operation.ErrTerminal) {
					t.Errorf("%s on terminal operation = %v, want ErrTerminal", name, err)
				}
			}
			if op.Status() != tt.wantStatus || !op.UpdatedAt().Equal(done) || op.Attempts() != 1 ||
				!slices.Equal(op.MemoryIDs(), ids) || op.Failure() != failure || !op.LeaseUntil().IsZero() {
				t.Errorf("terminal operation changed: status %q, updated %v, attempts %d, ids %v, failure %v",
					op.Status(), op.UpdatedAt(), op.Attempts(), op.MemoryIDs(), op.Failure())
			}
		})
	}
}

func TestSucceed_keepsItsOwnCopyOfIDs(t *testing.T) {
	t.Parallel()

	op := newPending(t)
	ids := []string{"m-1"}
	if err := op.Succeed(ids, t0); err != nil {
		t.Fatal(err)
	}
	ids[0] = "changed"
	if got := op.MemoryIDs(); !slices.Equal(got, []string{"m-1"}) {
		t.Errorf("memory ids = %v, want [m-1]", got)
	}
	if op.Failure() != nil {
		t.Errorf("failure = %v on a succeeded operation", op.Failure())
	}
}

func TestFail_recordsFailure(t *testing.T) {
	t.Parallel()

	op := newPending(t)
	if err := op.Fail(operation.Failure{Code: "retries-exhausted", Detail: "gave up"}, t0); err != nil {
		t.Fatal(err)
	}
	if f := op.Failure(); f == nil || f.Code != "retries-exhausted" || f.Detail != "gave up" {
		t.Errorf("failure = %+v", f)
	}
	if len(op.MemoryIDs()) != 0 {
		t.Errorf("memory ids = %v on a failed operation", op.MemoryIDs())
	}
}

func TestVisibleTo(t *testing.T) {
	t.Parallel()

	op := newPending(t) // app-1, user-1
	anonymous, err := operation.New("op-2", "app-1", "", operation.KindCreateMemory, t0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		op      *operation.Operation
		app     string
		endUser string
		want    bool
	}{
		{"same app and end user", op, "app-1", "user-1", true},
		{"other app", op, "app-2", "user-1", false},
		{"other end user", op, "app-1", "user-2", false},
		{"no end user asking for an end user's", op, "app-1", "", false},
		{"end user asking for the app's own", anonymous, "app-1", "user-1", false},
		{"app's own", anonymous, "app-1", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.op.VisibleTo(tt.app, tt.endUser); got != tt.want {
				t.Errorf("VisibleTo(%q, %q) = %v, want %v", tt.app, tt.endUser, got, tt.want)
			}
		})
	}
}

func TestSucceedRemoved(t *testing.T) {
	t.Parallel()

	op, err := operation.New("op-1", "app-1", "user-1", operation.KindForgetMemories, t0)
	if err != nil {
		t.Fatal(err)
	}
	if op.Removed() != 0 {
		t.Errorf("removed = %d on a new operation", op.Removed())
	}
	if err := op.Claim(t0, time.Minute); err != nil {
		t.Fatal(err)
	}
	done := t0.Add(time.Second)
	if err := op.SucceedRemoved(7, done); err != nil {
		t.Fatalf("SucceedRemoved: %v", err)
	}
	if op.Status() != operation.StatusSucceeded || op.Removed() != 7 || len(op.MemoryIDs()) != 0 ||
		!op.LeaseUntil().IsZero() || !op.UpdatedAt().Equal(done) {
		t.Errorf("operation = %q removed %d ids %v lease %v updated %v", op.Status(), op.Removed(), op.MemoryIDs(), op.LeaseUntil(), op.UpdatedAt())
	}
	if err := op.SucceedRemoved(9, done.Add(time.Hour)); !errors.Is(err, operation.ErrTerminal) {
		t.Errorf("second SucceedRemoved = %v, want ErrTerminal", err)
	}
	if op.Removed() != 7 {
		t.Errorf("removed = %d after a refused transition, want 7", op.Removed())
	}

	negative := newPending(t)
	if err := negative.SucceedRemoved(-1, t0); err != nil || negative.Removed() != 0 {
		t.Errorf("SucceedRemoved(-1) = %v, removed %d; want nil, 0", err, negative.Removed())
	}
}
