package service

// Variables that guard the authorization server's public endpoints.
const envAuthorizeRate = "CUSTOM_GPT_AUTHORIZE_RATE"

// OAuthGuards bounds /oauth/authorize per address.
type OAuthGuards struct {
	// AuthorizeRatePerMinute is how many authorization requests one address may
	// make a minute (and at once).
	AuthorizeRatePerMinute int
}

func loadOAuthGuards(p *parser) OAuthGuards {
	g := OAuthGuards{AuthorizeRatePerMinute: p.integer(envAuthorizeRate, 30, 1, 100_000)}
	return g
}
