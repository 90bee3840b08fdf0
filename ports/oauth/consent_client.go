package oauth

import (
	"net/http"
	"net/url"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
)

// clientView is how the consent page presents a client that registered
// itself: by the name it gave, which nobody here checked, with what can be
// checked beside it: where its metadata document is served, and where the
// browser goes once the user decides.
type clientView struct {
	Name         string
	DocumentHost string // a metadata document's host; empty for a registration
	RedirectHost string
}

// clientView is nil for an application's own client: the application is
// the one asking, by the name its operator gave it.
func (p *pages) clientView(r *http.Request, req *oauth.AuthRequest) (*clientView, error) {
	if !oauth.IsRegisteredClientID(req.ClientID) {
		return nil, nil
	}
	c, err := p.store.Client(r.Context(), req.ClientID)
	if err != nil {
		return nil, err
	}
	v := &clientView{Name: c.DisplayName(), RedirectHost: hostOf(req.RedirectURI)}
	if c.Kind == oauth.KindMetadataDocument {
		v.DocumentHost = hostOf(c.ID)
	}
	return v, nil
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if u.Host == "" {
		return u.Scheme + ":"
	}
	return u.Host
}
