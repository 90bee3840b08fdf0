package query_test

import (
	"context"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
)

func TestGetOperation(t *testing.T) {
	t.Parallel()

	own, err := operation.New("op-1", "app-1", "user-1", operation.KindCreateMemory, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	h := query.NewGetOperationHandler(fakeOps{"op-1": own}, nil, nil)

	tests := []struct {
		name    string
		q       query.GetOperation
		wantErr bool
	}{
		{"own operation", query.GetOperation{OperationID: "op-1", AppID: "app-1", EndUser: "user-1"}, false},
		{"another application's", query.GetOperation{OperationID: "op-1", AppID: "app-2", EndUser: "user-1"}, true},
		{"another end user's", query.GetOperation{OperationID: "op-1", AppID: "app-1", EndUser: "user-2"}, true},
		{"the application without the end user", query.GetOperation{OperationID: "op-1", AppID: "app-1"}, true},
		{"missing", query.GetOperation{OperationID: "op-9", AppID: "app-1", EndUser: "user-1"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			op, err := h.Handle(context.Background(), tt.q)
			if !tt.wantErr {
				if err != nil || op == nil || op.ID() != "op-1" {
					t.Fatalf("Handle = %v, %v; want op-1", op, err)
				}
				return
			}
			// Someone else's operation looks exactly like a missing one.
			requireErr(t, err, errs.KindNotFound, "operation-not-found")
			if op != nil {
				t.Errorf("operation %q leaked with the error", op.ID())
			}
		})
	}
}
