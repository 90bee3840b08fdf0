package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
)

// auditCommand checks the audit trail against its hash chains.
func auditCommand() *node {
	return group("audit", "check the audit trail; output is JSON on stdout",
		leaf("verify", "[--app APP_ID]",
			"walk each application's audit hash chain and name the first entry that does not\nmatch (exit 1); every application's unless --app",
			auditVerify),
	)
}

// chainJSON is one application's outcome of `audit verify`.
type chainJSON struct {
	AppID  string     `json:"app_id"`
	Links  int64      `json:"links_verified"`
	Intact bool       `json:"intact"`
	Break  *breakJSON `json:"first_mismatch,omitempty"`
}

type breakJSON struct {
	EntryID int64  `json:"entry_id,omitempty"`
	Link    int64  `json:"link,omitempty"`
	Reason  string `json:"reason"`
}

func auditVerify(fs *flag.FlagSet) action {
	app := fs.String("app", "", "verify this application's chain only")
	return func(ctx context.Context, c *call, args []string) error {
		if len(args) != 0 {
			return misuse("takes no arguments")
		}
		return c.connect(ctx, func(rt Runtime) error {
			v, err := rt.App().Queries.VerifyAudit.Handle(ctx, query.VerifyAudit{AppID: *app})
			if err != nil {
				return err
			}
			out := make([]chainJSON, 0, len(v.Apps))
			var first error
			for _, a := range v.Apps {
				j := chainJSON{AppID: a.AppID, Links: a.Links, Intact: a.Break == nil}
				if a.Break != nil {
					j.Break = &breakJSON{EntryID: a.Break.EntryID, Link: a.Break.Seq, Reason: a.Break.Reason}
					if first == nil {
						first = a.Break
					}
				}
				out = append(out, j)
			}
			if err := json.NewEncoder(c.env.Stdout).Encode(out); err != nil {
				return err
			}
			if first != nil {
				return errors.New("audit verify: " + first.Error())
			}
			return nil
		})
	}
}
