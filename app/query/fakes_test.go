package query_test

import (
	"cmp"
	"context"
	"encoding/hex"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
)

type fakeSearchBank struct {
	mu        sync.Mutex
	hits      []memory.Hit
	err       error
	calls     int
	lastScope memory.Scope
	lastQuery memory.Query
}

func (b *fakeSearchBank) Search(_ context.Context, scope memory.Scope, q memory.Query) ([]memory.Hit, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	b.lastScope, b.lastQuery = scope, q
	if b.err != nil {
		return nil, b.err
	}
	return slices.Clone(b.hits), nil
}

type recorded struct {
	entry  audit.Entry
	event  any
	ctxErr error
}

type fakeRecorder struct {
	mu      sync.Mutex
	err     error
	records []recorded
}

func (r *fakeRecorder) RecordRead(ctx context.Context, e audit.Entry, event any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.records = append(r.records, recorded{entry: e, event: event, ctxErr: ctx.Err()})
	return nil
}

// only returns the one record and its event as T, failing the test otherwise.
func only[T any](t *testing.T, r *fakeRecorder) (audit.Entry, T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.records) != 1 {
		t.Fatalf("%d records, want 1", len(r.records))
	}
	ev, ok := r.records[0].event.(T)
	if !ok {
		t.Fatalf("event %T, want %T", r.records[0].event, *new(T))
	}
	return r.records[0].entry, ev
}

type fakeOps map[string]*operation.Operation

func (r fakeOps) Get(_ context.Context, id string) (*operation.Operation, error) {
	if op, ok := r[id]; ok {
		return op, nil
	}
	return nil, errs.NotFound("operation-not-found", "no such operation")
}

// fakeAuditRepo serves entries newest first, as the adapter does.
type fakeAuditRepo struct {
	mu      sync.Mutex
	entries []audit.Entry // any order
	err     error
	filters []audit.Filter
}

func (r *fakeAuditRepo) List(_ context.Context, f audit.Filter) ([]audit.Entry, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.filters = append(r.filters, f)
	if r.err != nil {
		return nil, r.err
	}
	var out []audit.Entry
	for _, e := range r.entries {
		if (f.AppID == "" || e.AppID == f.AppID) && (f.AfterID == 0 || e.ID < f.AfterID) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b audit.Entry) int { return cmp.Compare(b.ID, a.ID) })
	if len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

type fakeKeyRepo struct {
	application.Repository // only ByKeyHash is used; anything else panics

	mu     sync.Mutex
	byHash map[string]*application.Application
	err    error
	calls  int
}

func (r *fakeKeyRepo) ByKeyHash(_ context.Context, h []byte) (*application.Application, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.err != nil {
		return nil, r.err
	}
	if a, ok := r.byHash[hex.EncodeToString(h)]; ok {
		return a, nil
	}
	return nil, errs.NotFound("app-not-found", "no application holds this key")
}

// fakeReader keeps records and their histories per scope. Like the real adapters
// it answers another scope's memory as missing.
type fakeReader struct {
	mu        sync.Mutex
	records   map[memory.Scope][]memory.Record // newest first
	history   map[string][]memory.Change       // by memory id
	err       error                            // returned by every call when set
	calls     int
	lastScope memory.Scope
	lastPage  memory.Page
}

func newFakeReader() *fakeReader {
	return &fakeReader{records: map[memory.Scope][]memory.Record{}, history: map[string][]memory.Change{}}
}

func (r *fakeReader) put(scope memory.Scope, rec memory.Record, changes ...memory.Change) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records[scope] = append([]memory.Record{rec}, r.records[scope]...)
	r.history[rec.ID] = changes
}

func (r *fakeReader) begin(scope memory.Scope) error {
	r.calls++
	r.lastScope = scope
	return r.err
}

func (r *fakeReader) find(scope memory.Scope, id string) (memory.Record, bool) {
	i := slices.IndexFunc(r.records[scope], func(rec memory.Record) bool { return rec.ID == id })
	if i < 0 {
		return memory.Record{}, false
	}
	return r.records[scope][i], true
}

func notFound() error {
	return &errs.Error{Kind: errs.KindNotFound, Slug: "memory-not-found", Detail: "no memory with this id",
		Err: &memory.BankError{Reason: "memory not found"}}
}

// The fake is the registry too: it holds what each scope stored.

// Page pages by position: the cursor is the index of the page's first record.
func (r *fakeReader) Page(_ context.Context, scope memory.Scope, page memory.Page) ([]memory.Registered, string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastPage = page
	r.lastScope = scope
	start := 0
	if page.Cursor != "" {
		n, err := strconv.Atoi(page.Cursor)
		if err != nil {
			return nil, "", errs.Invalid("cursor", "cursor-invalid", "cursor must be the next_cursor of an earlier page")
		}
		start = n
	}
	all := r.records[scope]
	start = min(start, len(all))
	end := min(start+page.Size(), len(all))
	var out []memory.Registered
	for _, rec := range all[start:end] {
		out = append(out, memory.Registered{ID: rec.ID, CreatedAt: rec.CreatedAt})
	}
	next := ""
	if end < len(all) {
		next = strconv.Itoa(end)
	}
	return out, next, nil
}

// Owns and Page are the registry's: err, the Memory Bank's failure, spares them.
func (r *fakeReader) Owns(_ context.Context, scope memory.Scope, id string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.find(scope, id)
	return ok, nil
}

func (r *fakeReader) GetMany(_ context.Context, scope memory.Scope, ids []string) ([]memory.Record, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.begin(scope); err != nil {
		return nil, err
	}
	out := []memory.Record{}
	for _, id := range ids {
		if rec, ok := r.find(scope, id); ok {
			out = append(out, rec)
		}
	}
	return out, nil
}

func (r *fakeReader) Get(_ context.Context, scope memory.Scope, id string) (memory.Record, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.begin(scope); err != nil {
		return memory.Record{}, err
	}
	rec, ok := r.find(scope, id)
	if !ok {
		return memory.Record{}, notFound()
	}
	return rec, nil
}

func (r *fakeReader) History(_ context.Context, scope memory.Scope, id string) ([]memory.Change, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.begin(scope); err != nil {
		return nil, err
	}
	if _, ok := r.find(scope, id); !ok {
		return nil, notFound()
	}
	return slices.Clone(r.history[id]), nil
}

func (r *fakeReader) callCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}
