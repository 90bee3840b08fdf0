package postgres_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/idempotency"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
)

var (
	idemT0    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	idemScope = idempotency.Scope{AppID: "app-1", EndUser: "user-1"}
	idemFP    = idempotency.NewFingerprint("POST", "/api/v1/memories", []byte(`{"content":"x"}`))
	idemOther = idempotency.NewFingerprint("POST", "/api/v1/memories", []byte(`{"content":"y"}`))
)

func idemKey(t *testing.T, s string) idempotency.Key {
	t.Helper()
	k, err := idempotency.ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newIdemStore(t *testing.T, cfg postgres.IdempotencyConfig) (*postgres.IdempotencyStore, *pgxpool.Pool) {
	t.Helper()
	pool, _ := pgtest.NewPool(t)
	return postgres.NewIdempotencyStore(pool, cfg), pool
}

func begin(t *testing.T, s *postgres.IdempotencyStore, scope idempotency.Scope, key idempotency.Key, fp idempotency.Fingerprint, now time.Time, want idempotency.Outcome) idempotency.Decision {
	t.Helper()
	d, err := s.Begin(context.Background(), scope, key, fp, now)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	if d.Outcome != want {
		t.Fatalf("begin: %s, want %s", d.Outcome, want)
	}
	if (d.Outcome == idempotency.Proceed) != (d.Lock != "") {
		t.Fatalf("begin: outcome %s with lock %q", d.Outcome, d.Lock)
	}
	return d
}

func idemRows(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM custom_gpt_idempotency_keys`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var accepted = idempotency.Response{
	Status: 202,
	Header: map[string][]string{"Content-Type": {"application/json"}, "Location": {"/api/v1/operations/op-1"}},
	Body:   []byte(`{"operation_id":"op-1","status":"pending"}`),
}

func TestIdempotencyStoreReplaysTheCompletedResponse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newIdemStore(t, postgres.IdempotencyConfig{})
	key := idemKey(t, `"k-1"`)

	d := begin(t, s, idemScope, key, idemFP, idemT0, idempotency.Proceed)
	if d.TakenOver {
		t.Fatal("a new key was taken over")
	}
	begin(t, s, idemScope, key, idemFP, idemT0.Add(time.Second), idempotency.InFlight)
	begin(t, s, idemScope, key, idemOther, idemT0.Add(time.Second), idempotency.Mismatch)

	if err := s.Complete(ctx, idemScope, key, d.Lock, accepted); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, idemScope, key, d.Lock, accepted); !errors.Is(err, idempotency.ErrLockLost) {
		t.Fatalf("second complete: %v", err)
	}
	r := begin(t, s, idemScope, key, idemFP, idemT0.Add(time.Hour), idempotency.Replay)
	if r.Response.Status != 202 || string(r.Response.Body) != string(accepted.Body) ||
		r.Response.Header["Location"][0] != "/api/v1/operations/op-1" || r.Response.Header["Content-Type"][0] != "application/json" {
		t.Fatalf("replayed %+v", r.Response)
	}
	begin(t, s, idemScope, key, idemOther, idemT0.Add(time.Hour), idempotency.Mismatch)
	if n := idemRows(t, pool); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
}

func TestIdempotencyStoreKeepsClientErrorsAndReleasesTheRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newIdemStore(t, postgres.IdempotencyConfig{})

	// A 4xx is the answer to this request: kept, with an empty body and no headers.
	kept := idemKey(t, "kept")
	d := begin(t, s, idemScope, kept, idemFP, idemT0, idempotency.Proceed)
	if err := s.Complete(ctx, idemScope, kept, d.Lock, idempotency.Response{Status: 422}); err != nil {
		t.Fatal(err)
	}
	r := begin(t, s, idemScope, kept, idemFP, idemT0, idempotency.Replay)
	if r.Response.Status != 422 || len(r.Response.Body) != 0 || len(r.Response.Header) != 0 {
		t.Fatalf("replayed %+v", r.Response)
	}

	// A 5xx, 429 or 409 may not recur: the key is released and the retry runs.
	for _, status := range []int{500, 503, 429, 409} {
		key := idemKey(t, "released")
		d := begin(t, s, idemScope, key, idemFP, idemT0, idempotency.Proceed)
		if err := s.Complete(ctx, idemScope, key, d.Lock, idempotency.Response{Status: status, Body: []byte("x")}); err != nil {
			t.Fatalf("%d: %v", status, err)
		}
		// Released, the key may even carry another body now.
		d = begin(t, s, idemScope, key, idemOther, idemT0, idempotency.Proceed)
		if d.TakenOver {
			t.Fatalf("%d: a released key was taken over", status)
		}
		if err := s.Complete(ctx, idemScope, key, d.Lock, idempotency.Response{Status: 503}); err != nil {
			t.Fatal(err)
		}
	}

	if err := s.Complete(ctx, idemScope, idemKey(t, "never-begun"), "not-a-lock", accepted); !errors.Is(err, idempotency.ErrLockLost) {
		t.Fatalf("complete with a bad lock: %v", err)
	}
}

// A request that holds its key past the lock timeout is presumed dead: the
// same request may take the key over, and the dead one can no longer complete.
func TestIdempotencyStoreTakesOverAnExpiredLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newIdemStore(t, postgres.IdempotencyConfig{LockTimeout: time.Minute})
	key := idemKey(t, "crashed")

	first := begin(t, s, idemScope, key, idemFP, idemT0, idempotency.Proceed)
	begin(t, s, idemScope, key, idemFP, idemT0.Add(59*time.Second), idempotency.InFlight)
	begin(t, s, idemScope, key, idemOther, idemT0.Add(2*time.Minute), idempotency.Mismatch)
	second := begin(t, s, idemScope, key, idemFP, idemT0.Add(time.Minute), idempotency.Proceed)
	if !second.TakenOver || second.Lock == first.Lock {
		t.Fatalf("takeover: %+v", second)
	}
	begin(t, s, idemScope, key, idemFP, idemT0.Add(90*time.Second), idempotency.InFlight)

	if err := s.Complete(ctx, idemScope, key, first.Lock, accepted); !errors.Is(err, idempotency.ErrLockLost) {
		t.Fatalf("the dead request completed: %v", err)
	}
	if err := s.Complete(ctx, idemScope, key, first.Lock, idempotency.Response{Status: 500}); !errors.Is(err, idempotency.ErrLockLost) {
		t.Fatalf("the dead request released the key: %v", err)
	}
	if err := s.Complete(ctx, idemScope, key, second.Lock, accepted); err != nil {
		t.Fatal(err)
	}
	begin(t, s, idemScope, key, idemFP, idemT0.Add(time.Hour), idempotency.Replay)

	// The takeover kept the record's creation and expiry.
	var created, expires time.Time
	if err := pool.QueryRow(ctx, `SELECT created_at, expires_at FROM custom_gpt_idempotency_keys`).Scan(&created, &expires); err != nil {
		t.Fatal(err)
	}
	if !created.Equal(idemT0) || !expires.Equal(idemT0.Add(idempotency.Retention)) {
		t.Fatalf("created %v, expires %v", created, expires)
	}
}

func TestIdempotencyStoreForgetsKeysAfterRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newIdemStore(t, postgres.IdempotencyConfig{PurgeEvery: -1})
	key := idemKey(t, "old")

	d := begin(t, s, idemScope, key, idemFP, idemT0, idempotency.Proceed)
	if err := s.Complete(ctx, idemScope, key, d.Lock, accepted); err != nil {
		t.Fatal(err)
	}
	begin(t, s, idemScope, key, idemOther, idemT0.Add(idempotency.Retention-time.Second), idempotency.Mismatch)

	// Expired, the record is ignored and overwritten, whatever the body.
	later := idemT0.Add(idempotency.Retention)
	d = begin(t, s, idemScope, key, idemOther, later, idempotency.Proceed)
	if d.TakenOver {
		t.Fatal("an expired record was taken over rather than replaced")
	}
	begin(t, s, idemScope, key, idemFP, later, idempotency.Mismatch)
	begin(t, s, idemScope, key, idemOther, later, idempotency.InFlight)
	if err := s.Complete(ctx, idemScope, key, d.Lock, idempotency.Response{Status: 201, Body: []byte("new")}); err != nil {
		t.Fatal(err)
	}
	r := begin(t, s, idemScope, key, idemOther, later.Add(time.Hour), idempotency.Replay)
	if r.Response.Status != 201 || string(r.Response.Body) != "new" || len(r.Response.Header) != 0 {
		t.Fatalf("replayed %+v", r.Response)
	}

	// Purge deletes what has expired, in batches, and nothing else.
	for i := range 1500 {
		if _, err := pool.Exec(ctx, `INSERT INTO custom_gpt_idempotency_keys
			(app_id, end_user, key, fingerprint, status, response_status, response_headers, response_body, created_at, expires_at)
			VALUES ('app-1', '', $1, $2, 'completed', 200, '{}', '', $3, $4)`,
			"bulk-"+strconv.Itoa(i), idemFP[:], idemT0, idemT0.Add(idempotency.Retention)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.Purge(ctx, idemT0.Add(idempotency.Retention))
	if err != nil || n != 1500 {
		t.Fatalf("purged %d: %v", n, err)
	}
	if rows := idemRows(t, pool); rows != 1 {
		t.Fatalf("%d rows left, want the live one", rows)
	}
	begin(t, s, idemScope, key, idemOther, later.Add(time.Hour), idempotency.Replay)
}

func TestIdempotencyStorePurgesOpportunistically(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newIdemStore(t, postgres.IdempotencyConfig{PurgeEvery: 3})
	for _, k := range []string{"a", "b"} {
		d := begin(t, s, idemScope, idemKey(t, k), idemFP, idemT0, idempotency.Proceed)
		if err := s.Complete(ctx, idemScope, idemKey(t, k), d.Lock, accepted); err != nil {
			t.Fatal(err)
		}
	}
	// The third Begin, a day later, purges the two expired rows before it inserts.
	begin(t, s, idemScope, idemKey(t, "c"), idemFP, idemT0.Add(idempotency.Retention), idempotency.Proceed)
	if n := idemRows(t, pool); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
}

// Keys belong to one application and one end user: the same key elsewhere is
// another key.
func TestIdempotencyStoreScopesKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newIdemStore(t, postgres.IdempotencyConfig{})
	key := idemKey(t, "shared-key")
	scopes := []idempotency.Scope{
		{AppID: "app-1", EndUser: "user-1"},
		{AppID: "app-1", EndUser: "user-2"},
		{AppID: "app-1", EndUser: ""},
		{AppID: "app-2", EndUser: "user-1"},
		{AppID: "app-2", EndUser: ""},
	}
	locks := make([]string, len(scopes))
	for i, sc := range scopes {
		fp := idemFP
		if i%2 == 1 {
			fp = idemOther // another body is no mismatch in another scope
		}
		locks[i] = begin(t, s, sc, key, fp, idemT0, idempotency.Proceed).Lock
	}
	// Completing or releasing one scope's key leaves the others as they were.
	if err := s.Complete(ctx, scopes[0], key, locks[0], accepted); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, scopes[1], key, locks[1], idempotency.Response{Status: 500}); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, scopes[3], key, locks[0], accepted); !errors.Is(err, idempotency.ErrLockLost) {
		t.Fatalf("another scope's lock completed a key: %v", err)
	}
	begin(t, s, scopes[0], key, idemFP, idemT0, idempotency.Replay)
	begin(t, s, scopes[1], key, idemFP, idemT0, idempotency.Proceed)
	begin(t, s, scopes[2], key, idemFP, idemT0, idempotency.InFlight)
	begin(t, s, scopes[3], key, idemOther, idemT0, idempotency.InFlight)
	begin(t, s, scopes[4], key, idemFP, idemT0, idempotency.InFlight)
	if n := idemRows(t, pool); n != len(scopes) {
		t.Fatalf("%d rows, want %d", n, len(scopes))
	}

	if _, err := s.Begin(ctx, idempotency.Scope{}, key, idemFP, idemT0); err == nil {
		t.Fatal("began a key without an application")
	}
	if _, err := s.Begin(ctx, scopes[0], idempotency.Key{}, idemFP, idemT0); err == nil {
		t.Fatal("began the zero key")
	}
}

// Of many concurrent requests with one key, in separate stores as if in
// separate processes, exactly one proceeds; the rest see it in flight.
func TestIdempotencyStoreBeginIsAtomic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	const callers, rounds = 8, 10
	for round := range rounds {
		key := idemKey(t, "race-"+strconv.Itoa(round))
		outcomes := make([]idempotency.Outcome, callers)
		failures := make([]error, callers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				s := postgres.NewIdempotencyStore(pool, postgres.IdempotencyConfig{PurgeEvery: -1})
				<-start
				d, err := s.Begin(ctx, idemScope, key, idemFP, time.Now())
				outcomes[i], failures[i] = d.Outcome, err
			})
		}
		close(start)
		wg.Wait()
		proceeded := 0
		for i := range callers {
			if failures[i] != nil {
				t.Fatalf("round %d, caller %d: %v", round, i, failures[i])
			}
			switch outcomes[i] {
			case idempotency.Proceed:
				proceeded++
			case idempotency.InFlight:
			default:
				t.Fatalf("round %d, caller %d: %s", round, i, outcomes[i])
			}
		}
		if proceeded != 1 {
			t.Fatalf("round %d: %d callers proceeded", round, proceeded)
		}
	}
}

// The response of a request holding a key is stored in the transaction of the
// work it answers for: both commit, or neither.
func TestIdempotencyResponseCommitsWithTheWork(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tr, pool := newTransactor(t)
	store := postgres.NewIdempotencyStore(pool, postgres.IdempotencyConfig{PurgeEvery: -1})
	scope := idempotency.Scope{AppID: "app-1"}
	claim := func(k string) (idempotency.Key, string) {
		key, err := idempotency.ParseKey(k)
		if err != nil {
			t.Fatal(err)
		}
		d, err := store.Begin(ctx, scope, key, idempotency.NewFingerprint("POST", "/api/v1/memories", []byte(k)), time.Now())
		if err != nil || d.Outcome != idempotency.Proceed {
			t.Fatalf("begin %s: %+v %v", k, d, err)
		}
		return key, d.Lock
	}
	accept := func(opID string, c idempotency.Completion, fail error) error {
		op, _ := operation.New(opID, "app-1", "", operation.KindCreateMemory, time.Now())
		return tr.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
			if err := tx.InsertOperation(ctx, op, nil); err != nil {
				return err
			}
			if err := tx.CompleteIdempotency(ctx, c); err != nil {
				return err
			}
			return fail
		})
	}
	resp := idempotency.Response{Status: 202, Body: []byte(`{"operation_id":"op-1"}`)}
	statusOf := func(k idempotency.Key) string {
		var status string
		if err := pool.QueryRow(ctx, `SELECT status FROM custom_gpt_idempotency_keys WHERE app_id = 'app-1' AND key = $1`, k.String()).Scan(&status); err != nil {
			t.Fatal(err)
		}
		return status
	}

	key, lock := claim(`"both"`)
	if err := accept("op-1", idempotency.Completion{Scope: scope, Key: key, Lock: lock, Response: resp}, nil); err != nil {
		t.Fatal(err)
	}
	if st := statusOf(key); st != "completed" || count(t, pool, "custom_gpt_operations") != 1 {
		t.Fatalf("after a commit: key %s, %d operations", st, count(t, pool, "custom_gpt_operations"))
	}

	key, lock = claim(`"neither"`)
	boom := errors.New("the work failed after the response was written")
	if err := accept("op-2", idempotency.Completion{Scope: scope, Key: key, Lock: lock, Response: resp}, boom); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if st := statusOf(key); st != "in_flight" || count(t, pool, "custom_gpt_operations") != 1 {
		t.Fatalf("after a rollback: key %s, %d operations", st, count(t, pool, "custom_gpt_operations"))
	}

	// A lock that no longer holds the key (taken over) refuses the work too.
	if err := accept("op-3", idempotency.Completion{Scope: scope, Key: key, Lock: "0190b1d2-7c1e-7a9b-8c3d-4e5f60718293", Response: resp}, nil); !errors.Is(err, idempotency.ErrLockLost) {
		t.Fatalf("a lost lock: %v", err)
	}
	if n := count(t, pool, "custom_gpt_operations"); n != 1 {
		t.Fatalf("%d operations after a lost lock", n)
	}
}
