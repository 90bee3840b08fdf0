package command_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// acceptCase runs one of the lifecycle accepts for operation op-1 of app-1/user-1.
type acceptCase struct {
	name   string
	kind   operation.Kind
	action audit.Action
	accept func(tx command.AcceptStore, s command.CommandSender) error
	// check inspects the sent command; it returns its operation id and accepted_at.
	check func(t *testing.T, cmd any) (string, time.Time)
}

var lifecycleAccepts = []acceptCase{
	{
		name: "update", kind: operation.KindUpdateMemory, action: audit.ActionUpdateMemory,
		accept: func(tx command.AcceptStore, s command.CommandSender) error {
			return command.NewAcceptUpdateMemoryHandler(tx, s, ownsAll{}, nil, nil).Handle(context.Background(), command.AcceptUpdateMemory{
				Acceptance: command.Acceptance{OperationID: "op-1", AppID: "app-1", EndUser: "user-1", RequestID: "req-1"}, MemoryID: "mem-9", Content: "likes oolong",
			})
		},
		check: func(t *testing.T, cmd any) (string, time.Time) {
			c, ok := cmd.(*events.UpdateMemory)
			if !ok {
				t.Fatalf("sent %T, want *events.UpdateMemory", cmd)
			}
			if c.Version != events.Version || c.AppID != "app-1" || c.EndUser != "user-1" || c.MemoryID != "mem-9" ||
				c.Content != "likes oolong" || c.RequestID != "req-1" {
				t.Errorf("command = %+v", c)
			}
			return c.OperationID, c.AcceptedAt
		},
	},
	{
		name: "delete", kind: operation.KindDeleteMemory, action: audit.ActionDeleteMemory,
		accept: func(tx command.AcceptStore, s command.CommandSender) error {
			return command.NewAcceptDeleteMemoryHandler(tx, s, ownsAll{}, nil, nil).Handle(context.Background(), command.AcceptDeleteMemory{
				Acceptance: command.Acceptance{OperationID: "op-1", AppID: "app-1", EndUser: "user-1", RequestID: "req-1"}, MemoryID: "mem-9",
			})
		},
		check: func(t *testing.T, cmd any) (string, time.Time) {
			c, ok := cmd.(*events.DeleteMemory)
			if !ok {
				t.Fatalf("sent %T, want *events.DeleteMemory", cmd)
			}
			if c.Version != events.Version || c.AppID != "app-1" || c.EndUser != "user-1" || c.MemoryID != "mem-9" || c.RequestID != "req-1" {
				t.Errorf("command = %+v", c)
			}
			return c.OperationID, c.AcceptedAt
		},
	},
	{
		name: "forget", kind: operation.KindForgetMemories, action: audit.ActionForgetMemories,
		accept: func(tx command.AcceptStore, s command.CommandSender) error {
			return command.NewAcceptForgetMemoriesHandler(tx, s, nil, nil).Handle(context.Background(), command.AcceptForgetMemories{
				Acceptance: command.Acceptance{OperationID: "op-1", AppID: "app-1", EndUser: "user-1", RequestID: "req-1"},
			})
		},
		check: func(t *testing.T, cmd any) (string, time.Time) {
			c, ok := cmd.(*events.ForgetMemories)
			if !ok {
				t.Fatalf("sent %T, want *events.ForgetMemories", cmd)
			}
			if c.Version != events.Version || c.AppID != "app-1" || c.EndUser != "user-1" || c.RequestID != "req-1" {
				t.Errorf("command = %+v", c)
			}
			return c.OperationID, c.AcceptedAt
		},
	},
}

func TestAcceptLifecycle_writesAndSends(t *testing.T) {
	t.Parallel()

	for _, tt := range lifecycleAccepts {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, sender := newFakeDB(), &fakeSender{}
			before := time.Now()
			if err := tt.accept(db, sender); err != nil {
				t.Fatalf("Handle: %v", err)
			}

			op := db.operation("op-1")
			if op == nil {
				t.Fatal("no operation written")
			}
			if op.Status() != operation.StatusPending || op.Kind() != tt.kind || op.AppID() != "app-1" ||
				op.EndUser() != "user-1" || op.Attempts() != 0 {
				t.Errorf("operation = %s %s %s %s attempts %d", op.Status(), op.Kind(), op.AppID(), op.EndUser(), op.Attempts())
			}
			entries := db.auditsOf("op-1")
			if len(entries) != 1 {
				t.Fatalf("audit entries = %+v, want one", entries)
			}
			if e := entries[0]; e.Status != audit.StatusPending || e.Action != tt.action || e.AppID != "app-1" ||
				e.EndUser != "user-1" || e.RequestID != "req-1" || e.OccurredAt.Before(before) || !e.CompletedAt.IsZero() {
				t.Errorf("audit entry = %+v", e)
			}

			sent := sender.commands()
			if len(sent) != 1 {
				t.Fatalf("sent %d commands, want 1", len(sent))
			}
			opID, acceptedAt := tt.check(t, sent[0])
			if opID != "op-1" {
				t.Errorf("command operation id = %q", opID)
			}
			if !acceptedAt.Equal(op.CreatedAt()) || acceptedAt.Location() != time.UTC {
				t.Errorf("accepted at %v, operation created at %v", acceptedAt, op.CreatedAt())
			}
			if got := db.published(); len(got) != 0 {
				t.Errorf("events published on accept: %v", got)
			}
		})
	}
}

// A command that cannot be queued after the commit is kept for LostCommands.
func TestAcceptLifecycle_queueFailureAfterCommitStillAccepts(t *testing.T) {
	t.Parallel()

	for _, tt := range lifecycleAccepts {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := newFakeDB()
			if err := tt.accept(db, &fakeSender{err: errors.New("redis: connection refused")}); err != nil {
				t.Fatalf("error = %v, want the operation accepted", err)
			}
			if op := db.operation("op-1"); op == nil || op.Status() != operation.StatusPending || db.keptCommand("op-1") == nil {
				t.Fatalf("operation %v: want it pending with its command kept", op)
			}
		})
	}
}

// PATCH and DELETE of a memory the caller's scope does not hold answer
// not found at once, and write nothing.
func TestAcceptLifecycle_unknownMemoryIsNotFoundAtOnce(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	theirs := own(db, bank, mustScope(t, "app-2", ""), "not yours")
	for _, id := range []string{theirs, "never-stored"} {
		sender := &fakeSender{}
		errUpdate := command.NewAcceptUpdateMemoryHandler(db, sender, db, nil, nil).Handle(context.Background(), command.AcceptUpdateMemory{
			Acceptance: command.Acceptance{OperationID: "op-u", AppID: "app-1"}, MemoryID: id, Content: "mine now",
		})
		errDelete := command.NewAcceptDeleteMemoryHandler(db, sender, db, nil, nil).Handle(context.Background(), command.AcceptDeleteMemory{
			Acceptance: command.Acceptance{OperationID: "op-d", AppID: "app-1"}, MemoryID: id,
		})
		for _, err := range []error{errUpdate, errDelete} {
			if errs.KindOf(err) != errs.KindNotFound {
				t.Errorf("memory %s: %v, want not found", id, err)
			}
		}
		if db.operationCount() != 0 || db.auditCount() != 0 || len(sender.commands()) != 0 {
			t.Fatalf("memory %s: a refused write left %d operations, %d audit entries, %d commands",
				id, db.operationCount(), db.auditCount(), len(sender.commands()))
		}
	}
}

func TestAcceptLifecycle_commitFailsIsUnavailable(t *testing.T) {
	t.Parallel()

	for _, tt := range lifecycleAccepts {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := newFakeDB()
			db.beforeCommit = func(*fakeTx) error { return errCommit }
			if err := tt.accept(db, &fakeSender{}); errs.KindOf(err) != errs.KindUnavailable || !errors.Is(err, errCommit) {
				t.Fatalf("error = %v, want KindUnavailable wrapping the commit failure", err)
			}
			if db.operationCount() != 0 {
				t.Error("operation kept after a failed commit")
			}
		})
	}
}

func TestAcceptUpdateMemory_contentFollowsTheRulesOfCreate(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		content string
		slug    string // "" means valid
	}{
		{"empty", "", "content-empty"},
		{"only whitespace", "  \n\t ", "content-empty"},
		{"16384 characters", strings.Repeat("é", memory.MaxContentChars), ""},
		{"16385 characters", strings.Repeat("a", memory.MaxContentChars+1), "content-too-long"},
		{"invalid UTF-8", "abc\xffdef", "content-not-utf8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, sender := newFakeDB(), &fakeSender{}
			err := command.NewAcceptUpdateMemoryHandler(db, sender, ownsAll{}, nil, nil).Handle(context.Background(), command.AcceptUpdateMemory{
				Acceptance: command.Acceptance{OperationID: "op-1", AppID: "app-1"}, MemoryID: "mem-1", Content: tt.content,
			})
			if tt.slug == "" {
				if err != nil {
					t.Fatalf("Handle: %v", err)
				}
				return
			}
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.KindInvalid || e.Field != "content" || e.Slug != tt.slug {
				t.Fatalf("error = %v, want KindInvalid %s on content", err, tt.slug)
			}
			if len(sender.commands()) != 0 || db.operationCount() != 0 || db.auditCount() != 0 {
				t.Error("invalid update was written or sent")
			}
		})
	}
}

func TestAcceptLifecycle_invalidMemoryIDOrOperation(t *testing.T) {
	t.Parallel()

	long := strings.Repeat("m", memory.MaxIDChars+1)
	tests := []struct {
		name   string
		accept func(command.AcceptStore, command.CommandSender) error
		field  string
	}{
		{"update without memory id", func(tx command.AcceptStore, s command.CommandSender) error {
			return command.NewAcceptUpdateMemoryHandler(tx, s, ownsAll{}, nil, nil).Handle(context.Background(),
				command.AcceptUpdateMemory{Acceptance: command.Acceptance{OperationID: "op-1", AppID: "app-1"}, Content: "x"})
		}, "memory_id"},
		{"update with an absurd memory id", func(tx command.AcceptStore, s command.CommandSender) error {
			return command.NewAcceptUpdateMemoryHandler(tx, s, ownsAll{}, nil, nil).Handle(context.Background(),
				command.AcceptUpdateMemory{Acceptance: command.Acceptance{OperationID: "op-1", AppID: "app-1"}, MemoryID: long, Content: "x"})
		}, "memory_id"},
		{"delete without memory id", func(tx command.AcceptStore, s command.CommandSender) error {
			return command.NewAcceptDeleteMemoryHandler(tx, s, ownsAll{}, nil, nil).Handle(context.Background(),
				command.AcceptDeleteMemory{Acceptance: command.Acceptance{OperationID: "op-1", AppID: "app-1"}})
		}, "memory_id"},
		{"delete with a memory id that is not UTF-8", func(tx command.AcceptStore, s command.CommandSender) error {
			return command.NewAcceptDeleteMemoryHandler(tx, s, ownsAll{}, nil, nil).Handle(context.Background(),
				command.AcceptDeleteMemory{Acceptance: command.Acceptance{OperationID: "op-1", AppID: "app-1"}, MemoryID: "\xff"})
		}, "memory_id"},
		{"delete without operation id", func(tx command.AcceptStore, s command.CommandSender) error {
			return command.NewAcceptDeleteMemoryHandler(tx, s, ownsAll{}, nil, nil).Handle(context.Background(),
				command.AcceptDeleteMemory{Acceptance: command.Acceptance{AppID: "app-1"}, MemoryID: "mem-1"})
		}, "operation_id"},
		{"forget without application", func(tx command.AcceptStore, s command.CommandSender) error {
			return command.NewAcceptForgetMemoriesHandler(tx, s, nil, nil).Handle(context.Background(),
				command.AcceptForgetMemories{Acceptance: command.Acceptance{OperationID: "op-1"}})
		}, "operation_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, sender := newFakeDB(), &fakeSender{}
			err := tt.accept(db, sender)
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.KindInvalid || e.Field != tt.field {
				t.Fatalf("error = %v, want KindInvalid on %s", err, tt.field)
			}
			if len(sender.commands()) != 0 || db.operationCount() != 0 {
				t.Error("invalid command was written or sent")
			}
		})
	}
}
