package query_test

import (
	"context"
	"errors"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

// readCase runs one of the audited lifecycle reads of memory m-1 for app-1.
type readCase struct {
	name   string
	action audit.Action
	read   func(ctx context.Context, bank *fakeReader, rec query.ReadRecorder, appID string) (found bool, err error)
}

var lifecycleReads = []readCase{
	{"list", audit.ActionListMemories, func(ctx context.Context, bank *fakeReader, rec query.ReadRecorder, appID string) (bool, error) {
		page, err := query.NewListMemoriesHandler(bank, bank, rec, nil, nil).Handle(ctx, query.ListMemories{AppID: appID})
		return len(page.Records) > 0, err
	}},
	{"get", audit.ActionGetMemory, func(ctx context.Context, bank *fakeReader, rec query.ReadRecorder, appID string) (bool, error) {
		r, err := query.NewGetMemoryHandler(bank, bank, rec, nil, nil).Handle(ctx, query.GetMemory{AppID: appID, MemoryID: "m-1"})
		return r.ID != "", err
	}},
	{"history", audit.ActionMemoryHistory, func(ctx context.Context, bank *fakeReader, rec query.ReadRecorder, appID string) (bool, error) {
		c, err := query.NewMemoryHistoryHandler(bank, bank, rec, nil, nil).Handle(ctx, query.MemoryHistory{AppID: appID, MemoryID: "m-1"})
		return len(c) > 0, err
	}},
}

func readerWithOneMemory(t *testing.T) *fakeReader {
	t.Helper()
	bank := newFakeReader()
	bank.put(mustScope(t, "app-1", ""), memory.Record{ID: "m-1", Content: "x"}, memory.Change{ID: "h-1", MemoryID: "m-1", Event: memory.EventAdd})
	return bank
}

func TestLifecycleReads_bankFails(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		bankErr  error
		wantSlug string
	}{
		{"transient bank error", &memory.BankError{Transient: true, StatusCode: 503, Reason: "down"}, "memory-bank-unavailable"},
		{"timeout", context.DeadlineExceeded, "memory-bank-unavailable"},
		{"permanent bank error", &memory.BankError{StatusCode: 400, Reason: "bad request"}, "memory-bank-rejected"},
	}
	for _, r := range lifecycleReads {
		for _, tt := range tests {
			t.Run(r.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				bank, rec := readerWithOneMemory(t), &fakeRecorder{}
				bank.err = tt.bankErr

				found, err := r.read(context.Background(), bank, rec, "app-1")
				requireErr(t, err, errs.KindUnavailable, tt.wantSlug)
				if !errors.Is(err, tt.bankErr) {
					t.Errorf("error %v does not wrap the bank error", err)
				}
				if found {
					t.Error("a result came back with the error")
				}
				if len(rec.records) != 1 {
					t.Fatalf("%d records, want 1", len(rec.records))
				}
				if e := rec.records[0].entry; e.Status != audit.StatusFailed || e.Detail == "" || e.Action != r.action || e.AppID != "app-1" {
					t.Errorf("audit entry = %+v, want failed with detail", e)
				}
			})
		}
	}
}

func TestLifecycleReads_unauditedReadIsNotAnswered(t *testing.T) {
	t.Parallel()

	for _, r := range lifecycleReads {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			recErr := errors.New("outbox insert failed")
			found, err := r.read(context.Background(), readerWithOneMemory(t), &fakeRecorder{err: recErr}, "app-1")
			requireErr(t, err, errs.KindUnavailable, "audit-unavailable")
			if !errors.Is(err, recErr) {
				t.Errorf("error %v does not wrap the recorder failure", err)
			}
			if found {
				t.Error("a result came back without an audit")
			}
		})
	}
}

func TestLifecycleReads_auditedAfterCallerGaveUp(t *testing.T) {
	t.Parallel()

	for _, r := range lifecycleReads {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			bank, rec := readerWithOneMemory(t), &fakeRecorder{}
			bank.err = context.Canceled
			ctx, cancel := context.WithCancel(context.Background())
			cancel()

			if _, err := r.read(ctx, bank, rec, "app-1"); err == nil {
				t.Fatal("a failed read succeeded")
			}
			if len(rec.records) != 1 || rec.records[0].ctxErr != nil {
				t.Errorf("records = %+v, want one written with a live context", rec.records)
			}
		})
	}
}

func TestLifecycleReads_invalidScope(t *testing.T) {
	t.Parallel()

	for _, r := range lifecycleReads {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			bank, rec := readerWithOneMemory(t), &fakeRecorder{}
			if _, err := r.read(context.Background(), bank, rec, "a:b"); errs.KindOf(err) != errs.KindInvalid {
				t.Errorf("error = %v, want KindInvalid", err)
			}
			if bank.callCount() != 0 || len(rec.records) != 0 {
				t.Error("read or audited with an invalid scope")
			}
		})
	}
}
