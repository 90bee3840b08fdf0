package oauth

import (
	"context"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

func TestDisabledUserKeepsNoAccess(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)
	held := o.IssueBeforeDisable(t)
	if out, err := o.RunCLI("users", "disable", harness.AliceEmail); err != nil {
		t.Fatalf("users disable: %v %s", err, out)
	}
	o.WantNothingWorks(t, held)

	// Her pending authorization requests are gone with her grants.
	var pending int
	if err := o.Pool().QueryRow(context.Background(), `SELECT count(*) FROM custom_gpt_auth_requests r
		JOIN custom_gpt_users u ON u.id = r.subject WHERE lower(u.email) = $1 AND r.code_used_at IS NULL`, harness.AliceEmail).Scan(&pending); err != nil {
		t.Fatal(err)
	}
	if pending != 0 {
		t.Errorf("%d authorization requests of the disabled user remain", pending)
	}
}

func TestDisabledApplicationKeepsNoAccess(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)
	held := o.IssueBeforeDisable(t)
	if out, err := o.RunCLI("apps", "disable", o.App.AppID); err != nil {
		t.Fatalf("apps disable: %v %s", err, out)
	}
	o.WantNothingWorks(t, held)
	// No new connection starts either.
	code, hdr, body := harness.NewBrowser(o.Deployment).Get("/oauth/authorize?" + harness.AuthorizeQuery(o.App, "after").Encode())
	if code/100 != 4 || hdr.Get("Location") != "" {
		t.Errorf("authorize for a disabled application: %d %q %s", code, hdr.Get("Location"), body)
	}
}

// A user disabled without their grants being revoked (a disable interrupted
// between its two steps, or done in the database) still gets nothing: the
// user's status is checked at refresh and on every token-authenticated request.
func TestUserStatusIsCheckedOnEveryUse(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)
	held := o.IssueBeforeDisable(t)
	if _, err := o.Pool().Exec(context.Background(), `UPDATE custom_gpt_users SET status = 'disabled' WHERE lower(email) = $1`, harness.AliceEmail); err != nil {
		t.Fatal(err)
	}
	o.WantNothingWorks(t, held)
}
